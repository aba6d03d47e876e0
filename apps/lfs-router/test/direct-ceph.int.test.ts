import { createHash } from "node:crypto";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Env, type TestBucket } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { probeSha256Enforcement } from "../src/probe.ts";
import { basic, lfsHeaders, testConfig, token } from "../src/test-support.ts";

interface Action {
  href: string;
  header?: Record<string, string>;
}

describe("direct mode on Ceph RGW", () => {
  let bucket: TestBucket;
  let driver: StorageDriver;

  beforeAll(async () => {
    const env = s3Env();
    bucket = await createTestBucket("lfs-direct");
    const query = new URLSearchParams({ endpoint: env.endpoint, region: env.region });
    driver = await openStorage(`s3://${bucket.name}?${query}`, {
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    });
  });
  afterAll(async () => {
    await driver?.close();
    await bucket?.[Symbol.asyncDispose]();
  });

  it("probes that Ceph 16 ignores x-amz-checksum-sha256 on presigned PUTs", async () => {
    expect(await probeSha256Enforcement(driver, "lfs/")).toBe(false);
  });

  it("never publishes a presigned upload whose body does not match its oid", async () => {
    const app = createApp({
      config: testConfig({ keyPrefix: "lfs/" }),
      driver,
      mode: "direct",
      storeEnforcesSha256: false,
    });
    const auth = basic("bob", await token("bob", "org/repo:write"));
    const real = Buffer.from("the real body, 32 bytes long....");
    const oid = createHash("sha256").update(real).digest("hex");
    const batch = (operation: string) =>
      app.request("http://lfs.test/org/repo/info/lfs/objects/batch", {
        method: "POST",
        headers: { ...lfsHeaders, Authorization: auth },
        body: JSON.stringify({ operation, objects: [{ oid, size: real.length }] }),
      });
    const upload = (
      (await (await batch("upload")).json()) as { objects: { actions: Record<string, Action> }[] }
    ).objects[0];
    const put = upload?.actions.upload as Action;
    expect(put.href.startsWith(s3Env().endpoint)).toBe(true);
    const forged = Buffer.from("a forged body, also 32 bytes....");
    const stored = await fetch(put.href, {
      method: "PUT",
      headers: { ...put.header, "Content-Type": "application/octet-stream" },
      body: forged,
    });
    expect(stored.status).toBe(200);

    const verify = upload?.actions.verify as Action;
    const verified = await app.request(verify.href, {
      method: "POST",
      headers: lfsHeaders,
      body: JSON.stringify({ oid, size: real.length }),
    });
    expect(verified.status).toBe(422);
    const download = (await (await batch("download")).json()) as { objects: { error?: { code: number } }[] };
    expect(download.objects[0]?.error?.code).toBe(404);

    const retry = (
      (await (await batch("upload")).json()) as { objects: { actions: Record<string, Action> }[] }
    ).objects[0];
    const again = retry?.actions.upload as Action;
    await fetch(again.href, {
      method: "PUT",
      headers: { ...again.header, "Content-Type": "application/octet-stream" },
      body: real,
    });
    const ok = await app.request(String((retry?.actions.verify as Action | undefined)?.href), {
      method: "POST",
      headers: lfsHeaders,
      body: JSON.stringify({ oid, size: real.length }),
    });
    expect(ok.status).toBe(200);
    const down = (await (await batch("download")).json()) as { objects: { actions: { download: Action } }[] };
    const got = await fetch(down.objects[0]?.actions.download.href ?? "", {
      headers: { Range: "bytes=4-7" },
    });
    expect(got.status).toBe(206);
    expect(await got.text()).toBe("real");
    expect((await driver.head(`lfs/org/repo/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`)).size).toBe(
      real.length,
    );
  });
});

import { describe, expect, it } from "vitest";
import { authKeys, fileEntry, formData, token, type UploadForm } from "../../apps/bitstore/test/helpers.ts";
import { createTestBucket, freePort, s3Env } from "../../packages/test-kit/src/index.ts";
import { imageOf, startContainer } from "./container.ts";

describe("the bitstore image", () => {
  it("authorizes a form that a browser-style POST uploads to Ceph, as non-root with a read-only root", async () => {
    const s3 = s3Env();
    await using bucket = await createTestBucket("image-bitstore");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await using bitstore = await startContainer({
      image: imageOf("bitstore"),
      env: {
        PORT: String(port),
        PUBLIC_URL: url,
        DATAHUB_PUBLIC_KEY: authKeys.publicKey,
        STORAGE_URL: `s3://${bucket.name}?endpoint=${s3.endpoint}&region=${s3.region}&forcePathStyle=true`,
        STORAGE_REGION: s3.region,
        STORAGE_ACCESS_KEY_ID: s3.accessKeyId,
        STORAGE_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
      ready: /"msg":"bitstore listening"/,
    });
    const body = "city,people\nLyon,522250\n";
    const authorize = async () => {
      const res = await fetch(`${url}/rawstore/authorize`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
        body: JSON.stringify({
          metadata: { owner: "bob", name: "cities" },
          filedata: { "data/cities.csv": fileEntry(body) },
        }),
      });
      expect(res.status).toBe(200);
      const json = (await res.json()) as { filedata: Record<string, UploadForm & { exists: boolean }> };
      return json.filedata["data/cities.csv"]!;
    };
    const form = await authorize();
    expect(form.exists).toBe(false);
    expect(form.upload_url).toBe(`${s3.endpoint}/${bucket.name}`);
    const posted = await fetch(form.upload_url, {
      method: "POST",
      body: formData(form, body),
      redirect: "manual",
    });
    expect(posted.status).toBeLessThan(300);
    expect((await authorize()).exists).toBe(true);
    const stopped = await bitstore.stop();
    expect(stopped.code, stopped.lines.join("\n")).toBe(0); // drained on SIGTERM
  });
});

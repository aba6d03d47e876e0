import { GetObjectCommand } from "@aws-sdk/client-s3";
import { createTestBucket, freePort, s3Env, startAppProcess } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { authKeys, fileEntry, formData, md5, token, type UploadForm } from "./helpers.ts";

const main = new URL("../src/main.ts", import.meta.url).pathname;

// Issue 25: bitstore chooses between the store's POST forms and its own upload routes by the opened
// store's capabilities, not by the URL's scheme. Ceph takes browser POSTs; a URL stating
// presignedPost=false makes the driver declare it lacks them, as a store without them would.
describe("bitstore on an S3 bucket without presignedPost (node src/main.ts, Ceph)", () => {
  it("warns at start-up, takes the uploads itself and writes them to the bucket", async () => {
    const s3 = s3Env();
    await using bucket = await createTestBucket("bitstore-nopost");
    const port = await freePort();
    const records: Record<string, unknown>[] = [];
    await using bitstore = await startAppProcess({
      script: main,
      env: {
        DATAHUB_PUBLIC_KEY: authKeys.publicKey,
        STORAGE_URL: `s3://${bucket.name}?endpoint=${s3.endpoint}&region=${s3.region}&forcePathStyle=true&presignedPost=false`,
        STORAGE_REGION: s3.region,
        STORAGE_ACCESS_KEY_ID: s3.accessKeyId,
        STORAGE_SECRET_ACCESS_KEY: s3.secretAccessKey,
        HOST: "127.0.0.1",
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
      },
      ready: (record) => {
        records.push(record);
        return record.msg === "bitstore listening" ? (record.url as string) : undefined;
      },
    });
    const warning = records.find((r) => r.level === "warn");
    expect(warning?.msg).toMatch(/presignedPost/);
    expect(records.at(-1)?.uploads).toBe("bitstore");

    const res = await fetch(`${bitstore.url}/rawstore/authorize`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
      body: JSON.stringify({
        metadata: { owner: "bob", name: "ds" },
        filedata: { "a.csv": fileEntry("x,y\n1,2\n") },
      }),
    });
    const form = ((await res.json()) as { filedata: Record<string, UploadForm> }).filedata["a.csv"]!;
    expect(form.upload_url).toBe(`${bitstore.url}/rawstore/s3/store`);
    const posted = await fetch(form.upload_url, { method: "POST", body: formData(form, "x,y\n1,2\n") });
    expect(posted.status).toBe(204);
    const stored = await bucket.client.send(
      new GetObjectCommand({ Bucket: bucket.name, Key: "bob/ds/a.csv" }),
    );
    expect(md5(Buffer.from(await stored.Body!.transformToByteArray()))).toBe(md5("x,y\n1,2\n"));
  });

  it("refuses to start without PUBLIC_URL, one line naming presignedPost and PUBLIC_URL, exit 2", async () => {
    const s3 = s3Env();
    await using bucket = await createTestBucket("bitstore-nopost");
    const started = startAppProcess({
      script: main,
      env: {
        DATAHUB_PUBLIC_KEY: authKeys.publicKey,
        STORAGE_URL: `s3://${bucket.name}?endpoint=${s3.endpoint}&region=${s3.region}&forcePathStyle=true&presignedPost=false`,
        STORAGE_ACCESS_KEY_ID: s3.accessKeyId,
        STORAGE_SECRET_ACCESS_KEY: s3.secretAccessKey,
        PORT: "0",
      },
      ready: (record) => (record.msg === "bitstore listening" ? (record.url as string) : undefined),
    });
    const error = (await started.then(
      () => undefined,
      (e: Error) => e,
    )) as Error;
    const [, stderr = ""] = error.message.split("exited 2: ");
    expect(stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^bitstore: .*presignedPost.*PUBLIC_URL/),
    ]);
  });
});

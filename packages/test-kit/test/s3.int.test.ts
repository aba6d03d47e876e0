import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3ServiceException,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createTestBucket, s3Client, s3Env, swiftS3Env, wharfServices } from "../src/index.ts";

const failure = async (promise: Promise<unknown>) => {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as S3ServiceException | undefined;
  return { name: error?.name, status: error?.$metadata?.httpStatusCode };
};

describe("S3 (Ceph RGW)", () => {
  it("provides the coordinates of a live RGW to this project", () => {
    const env = s3Env();
    expect(env.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.region).toBe("us-east-1");
    expect(env.second.accessKeyId).not.toBe(env.accessKeyId);
    expect(["started", "env", "dev-services"]).toContain(wharfServices().origin.s3);
  });

  it("round-trips an object with SigV4", async () => {
    await using bucket = await createTestBucket("test-kit-roundtrip");
    const body = `hello ${Date.now()}`;
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: "dir/k.txt", Body: body }));
    const got = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: "dir/k.txt" }));
    expect(await got.Body!.transformToString()).toBe(body);
  });

  it("rejects a wrong secret with 403 SignatureDoesNotMatch", async () => {
    await using bucket = await createTestBucket("test-kit-badsig");
    const env = s3Env();
    const wrong = s3Client({
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: "not-the-secret" },
    });
    expect(await failure(wrong.send(new ListObjectsV2Command({ Bucket: bucket.name })))).toEqual({
      name: "SignatureDoesNotMatch",
      status: 403,
    });
  });

  it("keeps the second user out of the first user's bucket", async () => {
    await using bucket = await createTestBucket("test-kit-tenant");
    const other = s3Client({ credentials: "second" });
    expect(await failure(other.send(new ListObjectsV2Command({ Bucket: bucket.name })))).toEqual({
      name: "AccessDenied",
      status: 403,
    });
  });

  it("empties and deletes a test bucket on dispose, multipart uploads included", async () => {
    const client = s3Client();
    let name: string;
    {
      await using bucket = await createTestBucket("test-kit-dispose", { versioning: true });
      name = bucket.name;
      await client.send(new PutObjectCommand({ Bucket: name, Key: "a", Body: "1" }));
      await client.send(new PutObjectCommand({ Bucket: name, Key: "a", Body: "2" }));
      const { CreateMultipartUploadCommand } = await import("@aws-sdk/client-s3");
      await client.send(new CreateMultipartUploadCommand({ Bucket: name, Key: "mp" }));
    }
    expect(await failure(client.send(new HeadBucketCommand({ Bucket: name })))).toEqual({
      name: "NotFound",
      status: 404,
    });
  });
});

describe("S3 (Swift s3api)", () => {
  it("empties and deletes a Swift test bucket on dispose (DeleteObjects there needs Content-MD5)", async () => {
    // Regression: emptyBucket's DeleteObjects had no Content-MD5, which Swift refuses with 400.
    const client = s3Client({ env: swiftS3Env() });
    let name: string;
    {
      await using bucket = await createTestBucket("test-kit-swift", { client });
      name = bucket.name;
      for (const key of ["a", "b/c"])
        await client.send(new PutObjectCommand({ Bucket: name, Key: key, Body: key }));
    }
    expect((await failure(client.send(new HeadBucketCommand({ Bucket: name })))).status).toBe(404);
  });
});

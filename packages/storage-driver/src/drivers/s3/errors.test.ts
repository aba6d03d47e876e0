import { createServer } from "node:net";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { translateS3Error } from "./errors.ts";

/** A loopback port with nothing listening: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("translateS3Error", () => {
  it("says a store that refuses connections is unavailable, why, and how long the SDK retried", async () => {
    const client = new S3Client({
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      region: "us-east-1",
      forcePathStyle: true,
      maxAttempts: 3,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    const error = await client
      .send(new HeadObjectCommand({ Bucket: "b", Key: "k" }))
      .catch((e: unknown) => e);
    const translated = translateS3Error(error, "k");
    expect(translated.code).toBe("UNAVAILABLE");
    expect(translated.message).toMatch(
      /^the S3 service is unavailable \(ECONNREFUSED: .*; 3 attempts, \d+\.\d s of back-off\)$/,
    );
  });
});

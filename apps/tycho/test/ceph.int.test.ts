import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { createTestBucket, s3Env } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { workspace } from "./harness.ts";
import { cliSuite } from "./suite.ts";

/** The config file exactly as a tychoreg user writes it (boto3 argument names). */
function tychoregConfig(bucket: string, secret?: string, endpoint?: string) {
  const env = s3Env();
  return {
    tycho: { backend: "s3", outdir: "tycho_packages" },
    s3: {
      bucket,
      region_name: env.region,
      endpoint_url: endpoint ?? env.endpoint,
      aws_access_key_id: { env: "REG_WRITE_KEY", default: env.accessKeyId },
      aws_secret_access_key: { env: "REG_WRITE_SECRET", default: secret ?? env.secretAccessKey },
    },
  };
}

cliSuite("Ceph RGW (S3)", {
  async create() {
    const bucket = await createTestBucket("tycho");
    const client = bucket.client;
    return {
      config: tychoregConfig(bucket.name),
      raw: {
        async put(key, body, metadata) {
          await client.send(
            new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: body, Metadata: metadata }),
          );
        },
        async get(key) {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
          return Buffer.from(await object.Body!.transformToByteArray());
        },
        async metadata(key) {
          return (await client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }))).Metadata ?? {};
        },
      },
      [Symbol.asyncDispose]: () => bucket[Symbol.asyncDispose](),
    };
  },
});

describe("tycho against S3 failures", () => {
  it("reports a wrong secret as PERMISSION_DENIED (exit 3) in one line", async () => {
    await using bucket = await createTestBucket("tycho-auth");
    await using ws = await workspace({ config: tychoregConfig(bucket.name, "wrong-secret") });
    const result = await ws.spawn("list");
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("reports an unreachable endpoint as UNAVAILABLE (exit 11)", async () => {
    await using ws = await workspace({
      config: tychoregConfig("some-bucket", undefined, "http://127.0.0.1:9"),
    });
    const result = await ws.run("list");
    expect(result.code).toBe(11);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("reports a missing bucket as a configuration error (exit 2) naming the bucket in one line", async () => {
    await using ws = await workspace({ config: tychoregConfig("tycho-no-such-bucket-4711") });
    for (const argv of [["list"], ["pull", "narf"]]) {
      const result = await ws.run(...argv);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain("tycho-no-such-bucket-4711");
    }
  });
});

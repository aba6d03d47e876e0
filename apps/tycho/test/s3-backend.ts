import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { createTestBucket, type S3Env, s3Client, s3Env } from "@wharf/test-kit";
import type { Backend } from "./suite.ts";

/** The config file exactly as a tychoreg user writes it (boto3 argument names). */
export function tychoregConfig(bucket: string, secret?: string, endpoint?: string, env: S3Env = s3Env()) {
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

/** A fresh bucket per case on the S3 server `env()` names, configured as tychoreg users do. */
export function s3Backend(env: () => S3Env, options: Partial<Backend> = {}): Backend {
  return {
    md5Etags: true,
    ...options,
    async create() {
      const bucket = await createTestBucket("tycho", { client: s3Client({ env: env() }) });
      const client = bucket.client;
      return {
        config: tychoregConfig(bucket.name, undefined, undefined, env()),
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
            return (
              (await client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }))).Metadata ?? {}
            );
          },
        },
        [Symbol.asyncDispose]: () => bucket[Symbol.asyncDispose](),
      };
    },
  };
}

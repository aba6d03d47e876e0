/**
 * Shared set-up for the tycho benchmarks: a Ceph bucket (the dev Ceph when it is up, else one
 * started for the run), a workspace whose `.tychoreg.json` points tycho at it, and helpers that time
 * the tycho CLI and `aws` (Debian's awscli) as real processes.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { emptyBucket, uniqueBucketName } from "@wharf/test-kit";
import { startServices } from "@wharf/test-kit/services";

const tychoMain = new URL("../apps/tycho/bin/tycho.mjs", import.meta.url).pathname;
export const awsCli = process.env.TYCHO_BENCH_AWS ?? "/usr/bin/aws";

export interface BenchBucket extends AsyncDisposable {
  readonly name: string;
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly endpoint: string;
  tycho(...args: string[]): Promise<number>;
  aws(...args: string[]): Promise<number>;
}

export async function benchBucket(prefix: string): Promise<BenchBucket> {
  // WHARF_REUSE_DEV_SERVICES=0 runs on a Ceph of the bench's own (e.g. when the dev one is full).
  const running = await startServices({
    ...process.env,
    WHARF_REUSE_DEV_SERVICES: process.env.WHARF_REUSE_DEV_SERVICES ?? "1",
  });
  const s3 = running.services.s3;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const name = uniqueBucketName(prefix);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  const dir = await mkdtemp(join(tmpdir(), "tycho-bench-"));
  await writeFile(
    join(dir, ".tychoreg.json"),
    JSON.stringify({
      tycho: { backend: "s3" },
      s3: {
        bucket: name,
        endpoint_url: s3.endpoint,
        region_name: s3.region,
        aws_access_key_id: s3.accessKeyId,
        aws_secret_access_key: s3.secretAccessKey,
      },
    }),
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_DEFAULT_REGION: s3.region,
  };
  return {
    name,
    dir,
    env,
    endpoint: s3.endpoint,
    tycho: (...args) => timed(process.execPath, [tychoMain, ...args], dir, env),
    aws: (...args) => timed(awsCli, ["--endpoint-url", s3.endpoint, ...args], dir, env),
    [Symbol.asyncDispose]: async () => {
      await emptyBucket(client, name).catch(() => undefined);
      await client.send(new DeleteBucketCommand({ Bucket: name })).catch(() => undefined);
      client.destroy();
      await rm(dir, { recursive: true, force: true });
      await running.stop();
    },
  };
}

/** Runs a command to completion and returns its wall time in seconds; fails on a non-zero exit. */
export function timed(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve((performance.now() - start) / 1000);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.trim()}`));
    });
  });
}

/** Writes `bytes` of incompressible data (a random 16 MiB block, each copy stamped with its index). */
export async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const block = randomBytes(16 * 1024 * 1024);
  const handle = await open(path, "w");
  try {
    for (let offset = 0, index = 0; offset < bytes; offset += block.length, index++) {
      block.writeUInt32BE(index, 0);
      await handle.write(block, 0, Math.min(block.length, bytes - offset), offset);
    }
  } finally {
    await handle.close();
  }
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

import { writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createServer } from "node:tls";
import { openStorage } from "@wharf/storage-driver";
import { createTestBucket, s3Env, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/core/config.ts";
import { openGatewayStorage } from "../src/core/storage.ts";
import { curl } from "./clients.ts";
import { startGateway, testTls } from "./harness.ts";

/** Ceph RGW behind TLS with a self-signed certificate, as many aioftps3 deployments' stores were. */
async function selfSignedS3() {
  const tls = await testTls();
  const target = new URL(s3Env().endpoint);
  const server = createServer({ cert: tls.cert, key: tls.key }, (client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    pipeline(client, upstream, client).catch(() => {
      client.destroy();
      upstream.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    cert: tls.cert,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function recorder() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (message: string) => void warnings.push(message) } };
}

describe("an S3 endpoint with a self-signed certificate", () => {
  it("is used with aioftps3's AWS_S3_BUCKET__VERIFY_CERTS=false, loudly (regression: ignored, so start failed)", async () => {
    await using s3 = await selfSignedS3();
    await using bucket = await createTestBucket("ftps-tls");
    const env = s3Env();
    const direct = await openStorage(
      `s3://${bucket.name}?endpoint=${encodeURIComponent(env.endpoint)}&region=${env.region}&forcePathStyle=true`,
      { credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey } },
    );
    await direct.put("hello.txt", "over self-signed TLS");
    await direct.close();
    const aioftps3 = {
      AWS_S3_BUCKET__NAME: bucket.name,
      AWS_S3_BUCKET__HOST: s3.url,
      AWS_S3_BUCKET__REGION: env.region,
      FTP_USERS__1__LOGIN: "u",
      FTP_USERS__1__PASSWORD: "p",
    };
    const credentials = { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey };
    const saved = { ...process.env };
    Object.assign(process.env, credentials);
    try {
      // Certificates checked (the default): the store's probe at open fails, naming the cause.
      await expect(openGatewayStorage(loadConfig(aioftps3), recorder().logger)).rejects.toThrow(
        /self-signed/,
      );

      const log = recorder();
      const insecure = await openGatewayStorage(
        loadConfig({ ...aioftps3, AWS_S3_BUCKET__VERIFY_CERTS: "false" }),
        log.logger,
      );
      expect(log.warnings).toEqual([expect.stringContaining("NOT verified")]);
      await using gw = await startGateway({ driver: insecure.driver });
      expect((await curl(gw, "explicit", "/hello.txt")).stdout).toBe("over self-signed TLS");
      await insecure.driver.close();

      await using dir = await tempDir("ftps-ca-");
      const caFile = join(dir.path, "store-ca.pem");
      await writeFile(caFile, s3.cert);
      const bundled = await openGatewayStorage(
        loadConfig({ ...aioftps3, AWS_CA_BUNDLE: caFile }),
        recorder().logger,
      );
      expect((await bundled.driver.list({ limit: 10 })).objects.map((o) => o.key)).toEqual(["hello.txt"]);
      await bundled.driver.close();
    } finally {
      for (const name of Object.keys(credentials)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});

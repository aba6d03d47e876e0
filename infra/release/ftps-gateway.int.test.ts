import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lftp } from "../../apps/ftps-gateway/test/clients.ts";
import { testTls } from "../../apps/ftps-gateway/test/harness.ts";
import { createTestBucket, freePort, s3Env, tempDir } from "../../packages/test-kit/src/index.ts";
import { freePortBlock } from "../../packages/test-kit/src/scripts.ts";
import { imageOf, startContainer } from "./container.ts";

describe("the ftps-gateway image", () => {
  it("serves lftp over explicit FTPS with data connections in its passive range, on Ceph, read-only root", async () => {
    const s3 = s3Env();
    await using bucket = await createTestBucket("image-ftps");
    await using dir = await tempDir("image-ftps-");
    await chmod(dir.path, 0o755); // the image's user (1000) reads the certificate through the mount
    const tls = await testTls();
    await writeFile(join(dir.path, "cert.pem"), tls.cert);
    await writeFile(join(dir.path, "key.pem"), tls.key, { mode: 0o644 });
    const [port, health, passive] = [await freePort(), await freePort(), await freePortBlock(4)];
    await using gateway = await startContainer({
      image: imageOf("ftps-gateway"),
      env: {
        STORAGE_URL: `s3://${bucket.name}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&forcePathStyle=true`,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        FTP_LISTEN_HOST: "127.0.0.1",
        FTP_COMMAND_PORT: String(port),
        FTP_DATA_PORTS_FIRST: String(passive),
        FTP_DATA_PORTS_COUNT: "4",
        HEALTHCHECK_PORT: String(health),
        FTP_USERS__1__LOGIN: "u",
        FTP_USERS__1__PASSWORD: "p",
        FTP_TLS_CERT_FILE: "/tls/cert.pem",
        FTP_TLS_KEY_FILE: "/tls/key.pem",
      },
      volumes: [`${dir.path}:/tls:ro`],
      ready: /"msg":"listening"/,
    });
    const caFile = join(dir.path, "cert.pem");
    const file = join(dir.path, "upload.bin");
    const body = Buffer.alloc(2 * 1024 * 1024 + 5, "wharf");
    await writeFile(file, body);
    const out = join(dir.path, "download.bin");
    const log = join(dir.path, "lftp.log");
    await lftp(
      { port, implicitPort: 0, caFile },
      "explicit",
      `debug -o ${log} 9; put ${file} -o image.bin; ls; get image.bin -o ${out}`,
    );
    expect(await readFile(out)).toEqual(body);
    const trace = await readFile(log, "utf8");
    const ports = [...trace.matchAll(/\(\|\|\|(\d+)\|\)|\(\d+,\d+,\d+,\d+,(\d+),(\d+)\)/g)].map((m) =>
      m[1] ? Number(m[1]) : Number(m[2]) * 256 + Number(m[3]),
    );
    expect(ports.length, trace).toBeGreaterThanOrEqual(3);
    for (const data of ports) expect(data >= passive && data < passive + 4, `port ${data}`).toBe(true);
    expect((await fetch(`http://127.0.0.1:${health}/healthz`)).status).toBe(200);
    const stopped = await gateway.stop();
    expect(stopped.code, stopped.lines.join("\n")).toBe(0); // drained on SIGTERM
  });
});

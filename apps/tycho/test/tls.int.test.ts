import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createTestBucket, s3Env } from "@wharf/test-kit";
import { generate } from "selfsigned";
import { describe, expect, it } from "vitest";
import { runCli, workspace } from "./harness.ts";
import { s3Proxy } from "./proxy.ts";

/** A self-signed certificate for 127.0.0.1, as a private S3 endpoint often has. */
async function selfSignedPair(): Promise<{ cert: string; key: string }> {
  const pair = await generate([{ name: "commonName", value: "tycho-tls-test" }], {
    keyType: "ec",
    curve: "P-256",
    extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
  });
  return { cert: pair.cert, key: pair.private };
}

function config(bucket: string, endpoint: string, verify?: boolean | string) {
  const env = s3Env();
  return {
    s3: {
      bucket,
      region_name: env.region,
      endpoint_url: endpoint,
      aws_access_key_id: env.accessKeyId,
      aws_secret_access_key: env.secretAccessKey,
      ...(verify === undefined ? {} : { verify }),
    },
  };
}

describe("tycho on an https endpoint with a self-signed certificate", () => {
  it("says why the connection failed and what to set (exit 2), and TYCHO_DEBUG shows the cause", async () => {
    // Bug: `S3 request failed (Error)`, the certificate error dropped, TYCHO_DEBUG=1 added nothing.
    const pair = await selfSignedPair();
    await using bucket = await createTestBucket("tycho-tls");
    await using proxy = await s3Proxy(s3Env().endpoint, { tls: pair });
    await using ws = await workspace({ config: config(bucket.name, proxy.endpoint) });
    const result = await ws.spawn("list");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^TLS certificate of ${proxy.endpoint} not trusted \\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN): self-signed certificate.*\\): set s3\\.verify to its CA bundle file \\(or AWS_CA_BUNDLE\\); s3\\.verify: false skips the check\\n$`,
      ),
    );
    const debug = await ws.runWith({ TYCHO_DEBUG: "1" }, "list");
    expect(debug.stderr).toMatch(/caused by: .*\n(.*\n)*caused by: Error: self-signed certificate/);
  });

  it("honours s3.verify: false with a loud warning, and trusts a CA bundle from s3.verify or AWS_CA_BUNDLE", async () => {
    // Bug: `s3.verify` was ignored, so a tychoreg config for a self-signed endpoint could not work.
    const pair = await selfSignedPair();
    await using bucket = await createTestBucket("tycho-tls");
    await using proxy = await s3Proxy(s3Env().endpoint, { tls: pair });
    await using ws = await workspace({ config: config(bucket.name, proxy.endpoint, false) });
    const file = await ws.file("f.txt", "over tls");
    expect(await ws.run("init", "p", "p.txt")).toMatchObject({ code: 0, stdout: "Initialized: p\n" });
    const pushed = await ws.run("push", "p", "1.0", file, "--promote-latest");
    expect(pushed.code).toBe(0);
    expect(pushed.stderr).toMatch(
      /^Warning: s3\.verify is false: the endpoint's TLS certificate is NOT checked/,
    );

    await ws.file("ca.pem", pair.cert);
    await ws.file("verified.json", JSON.stringify(config(bucket.name, proxy.endpoint, "ca.pem")));
    const pulled = await ws.run("pull", "p", "--config", "verified.json");
    expect(pulled).toMatchObject({ code: 0, stderr: "" });
    expect(await readFile(join(ws.dir, "tycho_packages/p.txt"), "utf8")).toBe("over tls");

    const url = `s3://${bucket.name}/?endpoint=${proxy.endpoint}&region=${s3Env().region}`;
    const env = {
      TYCHO_STORAGE_URL: url,
      AWS_ACCESS_KEY_ID: s3Env().accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3Env().secretAccessKey,
    };
    const bundled = await runCli(["list"], ws.dir, { ...env, AWS_CA_BUNDLE: "ca.pem" });
    expect(bundled.stderr).toBe("");
    expect(bundled).toMatchObject({
      code: 0,
      stdout: "p -- Latest Version: 1.0\n",
    });
    expect(await runCli(["list"], ws.dir, env)).toMatchObject({ code: 2 });
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { at, ecPair, type PemPair, rsaPair, T0 } from "../test/fixtures.ts";
import { runTokenCommand } from "./token-command.ts";
import { createVerifier } from "./verifier.ts";

const secret = "cli-test-secret-never-printed";
const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
const run = promisify(execFile);

async function inProcess(argv: string[], env: Record<string, string> = { WHARF_JWT_SECRET: secret }) {
  let stdout = "";
  let stderr = "";
  const code = await runTokenCommand(argv, {
    env,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    now: at(0),
  });
  return { code, stdout, stderr };
}

async function spawnCli(argv: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...argv], { env: { PATH: "", ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("./wharf token (node src/cli.ts)", () => {
  let dir: string;
  let rsa: PemPair;
  let ec: PemPair;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wharf-token-"));
    [rsa, ec] = await Promise.all([rsaPair(), ecPair()]);
    await writeFile(join(dir, "rsa.pem"), rsa.privatePem);
    await writeFile(join(dir, "ec.pem"), ec.privatePem);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints an HS256 token the configured secret verifies, with scopes and claims", async () => {
    const result = await spawnCli(
      [
        "--sub",
        "bob",
        "--username",
        "bob",
        "--scope",
        "org/repo:write",
        "--scope",
        "org/*:read",
        "--ttl",
        "1h",
        "--claim",
        "service=rawstore",
        "--claim",
        'permissions={"datapackage-upload":true}',
      ],
      { WHARF_JWT_SECRET: secret },
    );
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = await createVerifier({ algorithms: ["HS256"], secret }).verify(result.stdout.trim());
    expect(claims).toMatchObject({
      sub: "bob",
      username: "bob",
      scope: "org/repo:write org/*:read",
      service: "rawstore",
      permissions: { "datapackage-upload": true },
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
  });

  it("signs with a private key file, inferring RS256, and the public key verifies it", async () => {
    const result = await spawnCli(
      ["--sub", "u1", "--private-key", join(dir, "rsa.pem"), "--ttl", "2 weeks"],
      {},
    );
    expect(result.code).toBe(0);
    const verifier = createVerifier({ algorithms: ["RS256"], publicKey: rsa.publicPem });
    const claims = await verifier.verify(result.stdout.trim());
    expect(claims.exp! - claims.iat!).toBe(1_209_600);
  });

  it("fails with exit 2 and one line on stderr when the secret is missing, printing nothing else", async () => {
    const result = await spawnCli(["--sub", "bob"], {});
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("honours --secret-env, --iss, --aud, --kid and --jti with a frozen clock", async () => {
    const result = await inProcess(
      [
        "--sub",
        "bob",
        "--secret-env",
        "MY_SECRET",
        "--iss",
        "wharf",
        "--aud",
        "lfs",
        "--jti",
        "j1",
        "--ttl",
        "90",
      ],
      { MY_SECRET: secret },
    );
    expect(result.code).toBe(0);
    const verifier = createVerifier({
      algorithms: ["HS256"],
      secret,
      issuer: "wharf",
      audience: "lfs",
      now: at(10),
    });
    const claims = await verifier.verify(result.stdout.trim());
    expect(claims).toMatchObject({ iss: "wharf", aud: "lfs", jti: "j1", iat: T0.getTime() / 1000 });
    expect(claims.exp).toBe(T0.getTime() / 1000 + 90);
  });

  it("signs ES256 with an EC key and an explicit --alg", async () => {
    const result = await inProcess([
      "--sub",
      "bob",
      "--private-key",
      join(dir, "ec.pem"),
      "--alg",
      "ES256",
      "--kid",
      "k1",
    ]);
    expect(result.code).toBe(0);
    const header = JSON.parse(Buffer.from(result.stdout.split(".")[0]!, "base64url").toString());
    expect(header).toEqual({ alg: "ES256", typ: "JWT", kid: "k1" });
  });

  it.each([
    ["no --sub", []],
    ["an invalid scope", ["--sub", "bob", "--scope", "org/repo:delete"]],
    ["an invalid ttl", ["--sub", "bob", "--ttl", "soon"]],
    ["a malformed claim", ["--sub", "bob", "--claim", "novalue"]],
    ["an unknown option", ["--sub", "bob", "--bogus"]],
    ["an unknown algorithm", ["--sub", "bob", "--alg", "none"]],
    ["RS256 without a private key", ["--sub", "bob", "--alg", "RS256"]],
    ["HS256 with a private key", ["--sub", "bob", "--alg", "HS256", "--private-key", "RSA_PEM"]],
    ["an unreadable key file", ["--sub", "bob", "--private-key", "/nonexistent.pem"]],
    ["a key that does not fit --alg", ["--sub", "bob", "--private-key", "RSA_PEM", "--alg", "ES256"]],
  ])("exits 2 with one stderr line and no secret for %s", async (_name, argv) => {
    const args = argv.map((arg) => (arg === "RSA_PEM" ? join(dir, "rsa.pem") : arg));
    const result = await inProcess(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^token: [^\n]+\n$/);
    expect(result.stderr).not.toContain(secret);
  });

  it("prints help on stdout and exits 0", async () => {
    const result = await inProcess(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--scope");
  });
});

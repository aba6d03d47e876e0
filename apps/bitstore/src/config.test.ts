import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { compileKeyPattern } from "./key-pattern.ts";

/** Minimal dotenv reader: KEY=value, optional double quotes, # comments. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const raw = match[2] as string;
    env[match[1] as string] = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  }
  return env;
}

/** The least a bitstore on S3 needs besides its bucket: a token key and store credentials. */
const keyAndCredentials = {
  DATAHUB_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----",
  STORAGE_ACCESS_KEY_ID: "a",
  STORAGE_SECRET_ACCESS_KEY: "b",
};

describe("loadConfig", () => {
  it("parses the shipped .env.example with the original's variables", () => {
    const env = parseEnvFile(readFileSync(join(import.meta.dirname, "../.env.example"), "utf8"));
    const config = loadConfig(env);
    expect(config.serviceName).toBe("rawstore");
    expect(config.storage.bucket).toMatchObject({
      name: "datahub-rawstore",
      endpoint: "https://s3.amazonaws.com",
      prefix: "",
    });
    expect(config.auth.publicKey).toContain("\n");
    expect(config.multipartThreshold).toBe(5 * 1024 ** 3);
  });

  it("lists every problem at once", () => {
    let error: unknown;
    try {
      loadConfig({ PORT: "x", JWT_ALGORITHMS: "HS256", STORAGE_PATH_PATTERN: "{nope}" });
    } catch (e) {
      error = e;
    }
    const problems = (error as { problems: string[] }).problems.join("\n");
    expect((error as { code: string }).code).toBe("INVALID_ARGUMENT");
    for (const name of [
      "PORT",
      "JWT_ALGORITHMS",
      "STORAGE_PATH_PATTERN",
      "DATAHUB_PUBLIC_KEY",
      "STORAGE_URL",
      "STORAGE_ACCESS_KEY_ID",
    ]) {
      expect(problems).toContain(name);
    }
  });

  it("reads SHUTDOWN_DELAY_SECONDS (default 0) and refuses what is not 0 to 300 seconds", () => {
    const base = { ...keyAndCredentials, STORAGE_BUCKET_NAME: "bkt" };
    expect(loadConfig(base).shutdownDelayMs).toBe(0);
    expect(loadConfig({ ...base, SHUTDOWN_DELAY_SECONDS: "3" }).shutdownDelayMs).toBe(3000);
    expect(() => loadConfig({ ...base, SHUTDOWN_DELAY_SECONDS: "soon" })).toThrow(
      /SHUTDOWN_DELAY_SECONDS: must be a number of seconds from 0 to 300, got "soon"/,
    );
  });

  it("reads the fork's DATAHUB_SERVICE_NAME and wants PUBLIC_URL in local-disk mode", () => {
    const base = keyAndCredentials;
    expect(loadConfig({ ...base, STORAGE_BUCKET_NAME: "bkt", DATAHUB_SERVICE_NAME: "raw" }).serviceName).toBe(
      "raw",
    );
    expect(() => loadConfig({ ...base, STORAGE_URL: "file:///srv/x" })).toThrow(/PUBLIC_URL/);
  });
});

describe("compileKeyPattern", () => {
  const vars = {
    owner: "bob",
    dataset: "cities",
    path: "data/a.csv",
    filename: "a.csv",
    md5: "XUFAKrxLKna5cZ2REBfFkg==",
  };

  it("renders the variables of the upstream STORAGE_PATH_PATTERN", () => {
    const pattern = compileKeyPattern("{owner}/{dataset}/{md5_hex}/{dirname}/{basename}.{extension}");
    expect(pattern.render(vars)).toBe("bob/cities/5d41402abc4b2a76b9719d911017c592/data/a.csv.csv");
    expect(pattern.ownerPrefix("bob")).toBe("bob/");
  });

  it("refuses unknown variables and patterns without {owner}", () => {
    expect(() => compileKeyPattern("{owner}/{nope}")).toThrow();
    expect(() => compileKeyPattern("{name}/{path}")).toThrow();
  });

  it("refuses paths and names that would leave the owner's prefix", () => {
    const pattern = compileKeyPattern("{owner}/{name}/{path}");
    expect(() => pattern.render({ ...vars, path: "../../alice/x" })).toThrow();
    expect(() => pattern.render({ ...vars, dataset: ".." })).toThrow();
    expect(() => pattern.render({ ...vars, owner: "a/b" })).toThrow();
    const flat = compileKeyPattern("{owner}/{filename}");
    expect(() => flat.render({ ...vars, filename: "../x" })).toThrow();
  });
});

import { readFileSync } from "node:fs";
import { ConfigError } from "@wharf/http-kit";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

function parseEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1] as string] = match[2] as string;
  }
  return env;
}

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("parses the shipped .env.example", () => {
    const config = loadConfig(parseEnvFile(new URL("../.env.example", import.meta.url).pathname));
    expect(config).toMatchObject({
      port: 8080,
      transferMode: "auto",
      expiresIn: 3600,
      maxBatchObjects: 1000,
      locking: true,
      abandonedUploadMs: 24 * 3_600_000,
    });
  });

  it("reads SHUTDOWN_DELAY_SECONDS (default 0) and refuses what is not 0 to 300 seconds", () => {
    const base = { JWT_SECRET: "a-long-secret", STORAGE_URL: "file:///srv/lfs" };
    expect(loadConfig(base).shutdownDelayMs).toBe(0);
    expect(loadConfig({ ...base, SHUTDOWN_DELAY_SECONDS: "2.5" }).shutdownDelayMs).toBe(2500);
    for (const bad of ["-1", "5s", "301"])
      expect(problemsOf({ ...base, SHUTDOWN_DELAY_SECONDS: bad })).toEqual([
        `SHUTDOWN_DELAY_SECONDS: must be a number of seconds from 0 to 300, got "${bad}"`,
      ]);
  });

  it("accepts timone's environment as is", () => {
    const config = loadConfig({
      TIMONE_TOKEN_SECRET: "timone-secret",
      TIMONE_STORAGE: "S3StorageDriver",
      TIMONE_STORAGE_S3_URL: "http://127.0.0.1:7480",
      TIMONE_STORAGE_S3_REGION: "us-east-1",
      TIMONE_STORAGE_S3_BUCKET: "lfs-bucket",
      TIMONE_STORAGE_S3_KEY: "AK",
      TIMONE_STORAGE_S3_SECRET: "SK",
      TIMONE_OBJECT_EXPIRESIN: "600",
      TIMONE_ENDPOINT_URL: "https://lfs.example.com/",
      TIMONE_LOG_LEVEL: "WARNING",
    });
    expect(config).toMatchObject({
      storageUrl:
        "s3://lfs-bucket?endpoint=http%3A%2F%2F127.0.0.1%3A7480&forcePathStyle=true&region=us-east-1",
      s3Credentials: { accessKeyId: "AK", secretAccessKey: "SK" },
      jwt: { secret: "timone-secret", algorithms: ["HS256"] },
      expiresIn: 600,
      publicUrl: "https://lfs.example.com",
      logLevel: "warn",
    });
  });

  it("lets Wharf's own names win over timone's", () => {
    const config = loadConfig({
      STORAGE_URL: "file:///x",
      JWT_SECRET: "wharf-secret",
      TIMONE_TOKEN_SECRET: "timone-secret",
    });
    expect(config.jwt.secret).toBe("wharf-secret");
  });

  it("lists every problem at once", () => {
    const problems = problemsOf({
      PORT: "eighty",
      LFS_TRANSFER_MODE: "teleport",
      LFS_MAX_BATCH_OBJECTS: "-3",
      LFS_LOCKING: "maybe",
      LFS_ABANDONED_UPLOAD_HOURS: "a day",
    });
    expect(problems.some((p) => p.startsWith("JWT_SECRET"))).toBe(true);
    expect(problems.some((p) => p.startsWith("STORAGE_URL"))).toBe(true);
    for (const name of [
      "PORT",
      "LFS_TRANSFER_MODE",
      "LFS_MAX_BATCH_OBJECTS",
      "LFS_LOCKING",
      "LFS_ABANDONED_UPLOAD_HOURS",
    ])
      expect(
        problems.some((p) => p.startsWith(name)),
        name,
      ).toBe(true);
  });

  describe("timone's tokens under TIMONE_TOKEN_SECRET (regression: refused or 403 after the switch)", () => {
    const timone = { STORAGE_URL: "file:///x", TIMONE_TOKEN_SECRET: "short" };

    it("accepts a secret shorter than 8 characters, with a warning", () => {
      const config = loadConfig(timone);
      expect(config.jwt.secret).toBe("short");
      expect(config.warnings).toContainEqual(expect.stringContaining("TIMONE_TOKEN_SECRET is 5 characters"));
    });

    it("lets tokens without scopes read and write every repository, with a warning", () => {
      const config = loadConfig(timone);
      expect(config.unscopedTokenScopes).toEqual(["*:write"]);
      expect(config.warnings).toContainEqual(expect.stringContaining("every repository"));
    });

    it("keeps an explicit LFS_UNSCOPED_TOKEN_SCOPES, even an empty one", () => {
      expect(loadConfig({ ...timone, LFS_UNSCOPED_TOKEN_SCOPES: "" }).unscopedTokenScopes).toEqual([]);
      expect(loadConfig({ ...timone, LFS_UNSCOPED_TOKEN_SCOPES: "org/*:read" }).unscopedTokenScopes).toEqual([
        "org/*:read",
      ]);
    });

    it("stays strict under Wharf's own JWT_SECRET", () => {
      expect(problemsOf({ STORAGE_URL: "file:///x", JWT_SECRET: "short" })).toEqual([
        "JWT_SECRET: must be at least 8 characters",
      ]);
      const config = loadConfig({ STORAGE_URL: "file:///x", JWT_SECRET: "long-enough" });
      expect(config.unscopedTokenScopes).toEqual([]);
      expect(config.warnings).toEqual([]);
    });
  });

  it("refuses timone's fake DumbStorageDriver", () => {
    expect(problemsOf({ JWT_SECRET: "long-enough", TIMONE_STORAGE: "DumbStorageDriver" })).toEqual([
      expect.stringMatching(/^TIMONE_STORAGE/),
    ]);
  });
});

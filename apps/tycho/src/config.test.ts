import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

const base = { path: "/w/.tychoreg.json", cwd: "/w", defaultUser: "me@host", env: { HOME: "/home/me" } };

describe("loadConfig", () => {
  it("defaults to a local folder and tychoreg's outdir without a config file", () => {
    const config = loadConfig({ ...base, file: undefined });
    expect(config.storage.url).toBe("/home/me/.local/share/tycho");
    expect(config.outdir).toBe("tycho_packages");
    expect(config.user).toBe("me@host");
  });

  it("reads the original's s3 section, resolving {env, default} values", () => {
    const config = loadConfig({
      ...base,
      env: { REG_WRITE_KEY: "AKID" },
      file: {
        tycho: { backend: "s3", outdir: "pkgs" },
        s3: {
          bucket: "my-registry",
          region_name: "us-east-1",
          endpoint_url: "http://127.0.0.1:7480",
          aws_access_key_id: { env: "REG_WRITE_KEY", default: "KEYHERE" },
          aws_secret_access_key: { env: "REG_WRITE_SECRET", default: "SECRETHERE" },
        },
      },
    });
    expect(config.outdir).toBe("pkgs");
    expect(config.storage.url).toBe(
      "s3://my-registry/?endpoint=http%3A%2F%2F127.0.0.1%3A7480&region=us-east-1",
    );
    expect(config.storage.credentials).toEqual({ accessKeyId: "AKID", secretAccessKey: "SECRETHERE" });
  });

  it("lets TYCHO_STORAGE_URL override the file's backend", () => {
    const config = loadConfig({
      ...base,
      env: { TYCHO_STORAGE_URL: "/srv/reg" },
      file: { s3: { bucket: "b" } },
    });
    expect(config.storage.url).toBe("/srv/reg");
  });

  it("reports every problem at once with INVALID_ARGUMENT", () => {
    try {
      loadConfig({
        ...base,
        file: { tycho: { backend: "ftp", concurrency: 0 }, s3: { region_name: "x", aws_access_key_id: "a" } },
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: "INVALID_ARGUMENT" });
      const problems = (error as { details: { problems: string[] } }).details.problems;
      expect(problems.some((p) => p.startsWith("tycho.backend"))).toBe(true);
      expect(problems.some((p) => p.startsWith("tycho.concurrency"))).toBe(true);
    }
  });

  it("requires s3.bucket for the s3 backend, as tychoreg does", () => {
    expect(() => loadConfig({ ...base, file: { tycho: { backend: "s3" } } })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("accepts boto3-only options with a warning instead of failing", () => {
    const config = loadConfig({ ...base, file: { s3: { bucket: "bucket", use_ssl: false } } });
    expect(config.warnings).toEqual(["s3.use_ssl is ignored by tycho"]);
  });

  it("reads boto3's verify: false (with a warning), a CA bundle path, else AWS_CA_BUNDLE", () => {
    const insecure = loadConfig({ ...base, file: { s3: { bucket: "bucket", verify: false } } });
    expect(insecure.storage.tls).toEqual({ insecure: true });
    expect(insecure.warnings[0]).toMatch(
      /^s3\.verify is false: the endpoint's TLS certificate is NOT checked/,
    );
    const bundle = loadConfig({ ...base, file: { s3: { bucket: "bucket", verify: "certs/ca.pem" } } });
    expect(bundle.storage.tls).toEqual({ caFile: "/w/certs/ca.pem" });
    expect(bundle.warnings).toEqual([]);
    const env = { ...base.env, AWS_CA_BUNDLE: "/etc/ca.pem" };
    expect(loadConfig({ ...base, env, file: { s3: { bucket: "b" } } }).storage.tls).toEqual({
      caFile: "/etc/ca.pem",
    });
    expect(
      loadConfig({ ...base, env: { ...env, TYCHO_STORAGE_URL: "s3://b/" }, file: undefined }).storage.tls,
    ).toEqual({
      caFile: "/etc/ca.pem",
    });
  });

  it("parses the shipped .env.example", () => {
    const env = parseEnv(readFileSync(new URL("../.env.example", import.meta.url), "utf8"));
    const config = loadConfig({ ...base, env, file: undefined });
    expect(config.storage.url).toBe("./tycho-registry");
    expect(config.user).toBe("ci@build-1");
  });
});

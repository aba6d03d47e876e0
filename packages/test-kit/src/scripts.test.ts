import { describe, expect, it } from "vitest";
import { uniqueBucketName } from "./s3.ts";
import { parseEnvLines } from "./scripts.ts";

describe("parseEnvLines", () => {
  it("reads KEY=value lines, unquotes double-quoted values and skips everything else", () => {
    expect(parseEnvLines('# comment\nA_B=1\nPIDS="1 2 3"\nnot a line\nURL=http://x:1/?a=b\n')).toEqual({
      A_B: "1",
      PIDS: "1 2 3",
      URL: "http://x:1/?a=b",
    });
  });
});

describe("uniqueBucketName", () => {
  it("makes valid, distinct S3 bucket names from any prefix", () => {
    const names = [
      uniqueBucketName("My_Suite/Name"),
      uniqueBucketName("My_Suite/Name"),
      uniqueBucketName("x".repeat(90)),
    ];
    for (const name of names) expect(name).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    expect(names[0]).toMatch(/^my-suite-name-/);
    expect(new Set(names).size).toBe(3);
  });
});

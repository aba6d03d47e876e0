import { describe, expect, it } from "vitest";
import { validateLocalName, validatePackageName, validateVersion, validateVersionRef } from "./names.ts";

const invalid = expect.objectContaining({ code: "INVALID_ARGUMENT" });

describe("names", () => {
  it.each(["", ".", "..", "a/b", "a\\b", ".hidden", "nul\u0000", "x".repeat(201)])(
    "rejects the package name %j with INVALID_ARGUMENT",
    (name) => expect(() => validatePackageName(name)).toThrow(invalid),
  );

  it.each(["", "latest", "1.0/evil", "^1.2", "1 0", ">=1", "1.*", "..", "a\nb"])(
    "rejects the version %j with INVALID_ARGUMENT",
    (version) => expect(() => validateVersion(version)).toThrow(invalid),
  );

  it("accepts ordinary names and versions", () => {
    expect(validatePackageName("narf")).toBe("narf");
    expect(validatePackageName("my-pkg_2.x")).toBe("my-pkg_2.x");
    expect(validateVersion("1.0")).toBe("1.0");
    expect(validateVersion("2.0.0-rc.1+build.5")).toBe("2.0.0-rc.1+build.5");
  });

  it("reads existing versions more loosely than it creates them", () => {
    expect(validateVersionRef("1 0")).toBe("1 0");
    expect(() => validateVersionRef("a/b")).toThrow(invalid);
  });

  it("refuses a filename that is a path, so a bucket cannot write outside outdir", () => {
    expect(() => validateLocalName("../../etc/passwd")).toThrow(invalid);
    expect(() => validateLocalName("/etc/passwd")).toThrow(invalid);
    expect(validateLocalName("narf.tar.gz")).toBe("narf.tar.gz");
  });
});

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
  });

  it("refuses a filename that leaves outdir, so a bucket cannot write outside it", () => {
    for (const name of ["../../etc/passwd", "/etc/passwd", "lib/../../x", "..", ".", "", "a\\b", "lib/"])
      expect(() => validateLocalName(name), name).toThrow(invalid);
    expect(validateLocalName("narf.tar.gz")).toBe("narf.tar.gz");
  });

  it("accepts a filename in a subfolder of outdir, as tychoreg does", () => {
    // Bug: `tychoreg init p lib/tool.bin` made a package tycho could not pull.
    expect(validateLocalName("lib/tool.bin")).toBe("lib/tool.bin");
    expect(validateLocalName("./lib//tool.bin")).toBe("lib/tool.bin");
  });

  it("reads versions tychoreg pushed with a slash, but never an escaping one", () => {
    // Bug: `release/1.0` was refused by pull --version, promote, verify.
    expect(validateVersionRef("release/1.0")).toBe("release/1.0");
    for (const ref of ["a/../b", "/abs", "a//b", "a/"])
      expect(() => validateVersionRef(ref), ref).toThrow(invalid);
  });
});

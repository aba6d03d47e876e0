import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSigningKey, deriveKey } from "../src/index.ts";

describe("createSigningKey", () => {
  const key = deriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20240506", "us-east-1", "s3");
  const reference = (bytes: Uint8Array, data: string) =>
    createHmac("sha256", bytes).update(data).digest("hex");

  it.each([
    ["empty", ""],
    ["a POST policy", Buffer.from('{"conditions":[{"bucket":"b"}]}').toString("base64")],
    ["longer than the first buffer (grows it)", "x".repeat(5000)],
  ])("signs ASCII as createHmac does: %s", (_name, data) => {
    const mac = createSigningKey(key);
    expect(mac.signAscii(data)).toBe(reference(key, data));
    // The same key again, after a longer message: nothing of the earlier one is left in the pads.
    expect(mac.signAscii("short")).toBe(reference(key, "short"));
  });

  it("signs UTF-8 as createHmac does, with a key of any length up to one block", () => {
    for (const bytes of [randomBytes(1), randomBytes(32), randomBytes(64)]) {
      const mac = createSigningKey(bytes);
      expect(mac.sign("été/日本 ü+~.csv")).toBe(reference(bytes, "été/日本 ü+~.csv"));
    }
  });

  it("refuses a key longer than one SHA-256 block", () => {
    expect(() => createSigningKey(randomBytes(65))).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import { listLine } from "../core/listing.ts";
import { listArgument, mlsxLine, timeVal } from "./listing-format.ts";

const now = new Date("2024-06-01T12:00:00Z");

describe("listing lines", () => {
  it("prints files as regular files (-rw-rw-rw-), not aioftps3's FIFOs", () => {
    const line = listLine(
      { name: "big.bin", type: "file", size: 105906176, modified: new Date("2024-05-22T03:10:00Z") },
      now,
    );
    expect(line).toBe("-rw-rw-rw- 1 none none 105906176 May 22 03:10 big.bin");
  });

  it("prints directories and old entries with the year", () => {
    expect(listLine({ name: "some dir", type: "dir", size: 0, modified: new Date(0) }, now)).toBe(
      "drwxrwxrwx 1 none none 0 Jan  1  1970 some dir",
    );
  });

  it("writes RFC 3659 facts", () => {
    const modified = new Date("2024-05-22T03:10:09Z");
    expect(timeVal(modified)).toBe("20240522031009");
    expect(mlsxLine({ name: "f", type: "file", size: 3, modified }, "f", true)).toBe(
      "type=file;size=3;modify=20240522031009;perm=adfrw; f",
    );
    expect(mlsxLine({ name: "d", type: "dir", size: 0, modified }, "d", false)).toBe(
      "type=dir;modify=20240522031009;perm=el; d",
    );
  });

  it("drops ls options from LIST arguments", () => {
    expect(listArgument("-la")).toBe("");
    expect(listArgument("-a -l my dir")).toBe("my dir");
    expect(listArgument("my dir")).toBe("my dir");
  });
});

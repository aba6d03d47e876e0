import { describe, expect, it } from "vitest";
import { createMemoryDriver } from "./drivers/memory/memory.ts";
import { listAll } from "./list-all.ts";

describe("listAll", () => {
  it("streams objects and prefixes in key order across pages", async () => {
    const storage = createMemoryDriver();
    for (const key of ["a/1", "a/2", "b", "c/x/y", "d", "e-1", "e/f"]) await storage.put(key, key);
    const seen: string[] = [];
    for await (const entry of listAll(storage, { delimiter: "/", limit: 2 })) {
      seen.push(entry.kind === "object" ? entry.object.key : entry.prefix);
    }
    expect(seen).toEqual(["a/", "b", "c/", "d", "e-1", "e/"]);
  });

  it("lists every object under a prefix without a delimiter", async () => {
    const storage = createMemoryDriver();
    for (const key of ["p/1", "p/2/3", "q"]) await storage.put(key, key);
    const keys: string[] = [];
    for await (const entry of listAll(storage, { prefix: "p/", limit: 1 })) {
      if (entry.kind === "object") keys.push(entry.object.key);
    }
    expect(keys).toEqual(["p/1", "p/2/3"]);
  });
});

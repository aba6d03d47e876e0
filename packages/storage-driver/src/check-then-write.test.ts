import { isWharfError } from "@wharf/errors";
import { describe, expect, it } from "vitest";
import { readAll } from "./body.ts";
import { withCheckThenWrite } from "./check-then-write.ts";
import { createMemoryDriver } from "./drivers/memory/memory.ts";
import type { StorageDriver } from "./types.ts";

/** The memory driver as a store without conditional writes: conditions are UNSUPPORTED. */
function withoutConditionalWrites(): StorageDriver {
  const driver = createMemoryDriver();
  return {
    ...driver,
    capabilities: { ...driver.capabilities, conditionalWrite: false },
    put: (key, body, options = {}) =>
      options.ifMatch !== undefined || options.ifNoneMatch !== undefined
        ? Promise.reject(new Error("conditional put reached the store"))
        : driver.put(key, body, options),
  };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (isWharfError(error) ? error.code : String(error)),
  );

describe("withCheckThenWrite", () => {
  it("checks ifNoneMatch and ifMatch with a HEAD, then writes unconditionally", async () => {
    const storage = withCheckThenWrite(withoutConditionalWrites());
    const first = await storage.put("k", "one", { ifNoneMatch: "*" });
    expect(await codeOf(storage.put("k", "two", { ifNoneMatch: "*" }))).toBe("PRECONDITION_FAILED");
    expect(await codeOf(storage.put("k", "two", { ifMatch: "stale" }))).toBe("PRECONDITION_FAILED");
    expect(await codeOf(storage.put("absent", "x", { ifMatch: first.etag }))).toBe("PRECONDITION_FAILED");
    await storage.put("k", "two", { ifMatch: first.etag });
    expect((await readAll((await storage.get("k")).body)).toString()).toBe("two");
    expect(await codeOf(storage.copy("k", "k", { ifNoneMatch: "*" }))).toBe("PRECONDITION_FAILED");
    expect(storage.capabilities.conditionalWrite).toBe(false);
  });

  it("leaves a driver with conditional writes as it is", () => {
    const driver = createMemoryDriver();
    expect(withCheckThenWrite(driver)).toBe(driver);
  });
});

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeStore, openStorage, parseStorageUrl, storageFolder } from "../open-storage.ts";
import { booleanCapabilities } from "../types.ts";
import { createMemoryDriver } from "./memory/memory.ts";
import type { DriverRegistration } from "./registration.ts";
import { registerDriver, registeredDrivers } from "./registry.ts";
import { integerOption } from "./url-options.ts";

interface MemTestConfig {
  readonly kind: "mem+test";
  readonly name: string;
  readonly delay?: number;
}

/** A throwaway driver: the memory driver under its own scheme, with one option and one variable. */
const memTest: DriverRegistration<MemTestConfig> = {
  kind: "mem+test",
  schemes: ["mem+test"],
  options: ["delay"],
  credentials: ["MEM_TEST_TOKEN"],
  location: "process",
  capabilities: {
    rangeRead: true,
    conditionalWrite: true,
    presign: false,
    presignedPost: false,
    multipart: true,
    rename: true,
    folderMarkers: true,
    md5Etags: true,
  },
  parse(url, context) {
    const delay = integerOption(context.url, url.searchParams, "delay", 0);
    return { kind: "mem+test", name: url.hostname, ...(delay === undefined ? {} : { delay }) };
  },
  describe: (config) => `test memory ${config.name}`,
  async open(_config, options) {
    if (!options.env?.MEM_TEST_TOKEN) throw new Error("MEM_TEST_TOKEN is not set");
    return createMemoryDriver();
  },
};

describe("the driver registry", () => {
  it("serves a newly registered scheme through openStorage, parseStorageUrl and describeStore", async () => {
    expect(() => parseStorageUrl("mem+test://scratch")).toThrowError(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        message: expect.stringMatching(/unsupported scheme/),
      }),
    );
    registerDriver(memTest);

    expect(parseStorageUrl("mem+test://scratch?delay=5")).toEqual({
      kind: "mem+test",
      name: "scratch",
      delay: 5,
    });
    expect(describeStore("mem+test://scratch")).toBe("test memory scratch");
    expect(storageFolder("mem+test://scratch")).toBeUndefined();
    const storage = await openStorage("mem+test://scratch", { env: { MEM_TEST_TOKEN: "t" } });
    await storage.put("docs/a.txt", "hello");
    expect((await storage.head("docs/a.txt")).size).toBe(5);
    // openStorage's key validation wraps it as it wraps every driver.
    await expect(storage.put("../escape", "x")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    // Its URL options are checked like any driver's: unknown ones and bad values are refused.
    for (const url of [
      "mem+test://scratch?colour=blue",
      "mem+test://scratch?delay=-1",
      "mem+test://u:p@scratch",
    ])
      expect(() => parseStorageUrl(url)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    await expect(openStorage("mem+test://scratch", { env: {} })).rejects.toThrow(/MEM_TEST_TOKEN/);
  });

  it("refuses a second driver for a scheme or kind already served", () => {
    const again = { ...memTest, kind: "other" } as unknown as DriverRegistration;
    expect(() => registerDriver({ ...memTest, schemes: ["memtest2"] })).toThrowError(
      expect.objectContaining({ code: "ALREADY_EXISTS" }),
    );
    expect(() => registerDriver({ ...again, schemes: ["s3"] })).toThrowError(
      expect.objectContaining({ code: "ALREADY_EXISTS" }),
    );
  });

  it("names the folder of a local store, and none for a service", () => {
    expect(storageFolder("file:///srv/data?fsync=false")).toBe("/srv/data");
    expect(storageFolder("./data", { cwd: "/app" })).toBe("/app/data");
    expect(storageFolder("s3://bucket/")).toBeUndefined();
    expect(storageFolder("azure://account/container")).toBeUndefined();
    expect(storageFolder("memory://")).toBeUndefined();
  });

  const roots: string[] = [];
  afterAll(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });
  it("declares for memory and fs what the opened drivers declare", async () => {
    const root = await mkdtemp(join(tmpdir(), "wharf-registry-"));
    roots.push(root);
    for (const url of ["memory://", `file://${root}`]) {
      const storage = await openStorage(url);
      const declared = registeredDrivers().find(
        (registration) => registration.kind === parseStorageUrl(url).kind,
      );
      for (const capability of booleanCapabilities) {
        const stated = declared?.capabilities[capability];
        if (stated !== "depends")
          expect([url, capability, storage.capabilities[capability]]).toEqual([url, capability, stated]);
      }
      await storage.close();
    }
  });
});

import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { WharfError } from "@wharf/errors";
import { createMemoryDriver, readAll, type StorageDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createPartPool } from "./part-pool.ts";
import { createAbortRetrier, uploadInParts } from "./part-upload.ts";

const partBytes = 64 * 1024;

/** The memory driver, counting part buffers held at once and open uploads; `down` fails every call. */
function watched() {
  const memory = createMemoryDriver();
  const state = { down: false, aborted: [] as string[], open: new Set<string>() };
  const fail = () => {
    if (state.down) throw new WharfError("UNAVAILABLE", "store unreachable");
  };
  const driver: StorageDriver = {
    ...memory,
    async createMultipart(key, options) {
      fail();
      const id = await memory.createMultipart(key, options);
      state.open.add(id);
      return id;
    },
    async uploadPart(key, id, n, body, options) {
      fail();
      return memory.uploadPart(key, id, n, body, options);
    },
    async completeMultipart(key, id, parts) {
      fail();
      state.open.delete(id);
      return memory.completeMultipart(key, id, parts);
    },
    async abortMultipart(key, id) {
      fail();
      state.open.delete(id);
      state.aborted.push(id);
      return memory.abortMultipart(key, id);
    },
  };
  return { driver, state };
}

describe("uploadInParts", () => {
  it("stores the bytes in parts and never holds more buffers than the shared pool has", async () => {
    const { driver } = watched();
    const pool = createPartPool({ partBytes, parts: 3 });
    let peak = 0;
    const acquire = pool.acquire.bind(pool);
    pool.acquire = async (signal) => {
      const buffer = await acquire(signal);
      peak = Math.max(peak, pool.inUse());
      return buffer;
    };
    const bodies = [0, 1, 2, 3].map(() => randomBytes(partBytes * 5 + 123));
    const abandon = () => {};
    await Promise.all(
      bodies.map((body, i) =>
        uploadInParts(`f${i}`, Readable.from([body.subarray(0, 1000), body.subarray(1000)]), {
          driver,
          pool,
          partsPerUpload: 2,
          abandon,
        }),
      ),
    );
    for (const [i, body] of bodies.entries())
      expect((await readAll((await driver.get(`f${i}`)).body)).equals(body)).toBe(true);
    expect(peak).toBeLessThanOrEqual(3);
    expect(pool.inUse()).toBe(0);
  });

  it("stores a body shorter than a part (and an empty one) with one put", async () => {
    const { driver, state } = watched();
    const pool = createPartPool({ partBytes, parts: 1 });
    const options = { driver, pool, partsPerUpload: 1, abandon: () => {} };
    await uploadInParts("small", Readable.from([Buffer.from("abc")]), options);
    await uploadInParts("empty", Readable.from([]), options);
    expect((await readAll((await driver.get("small")).body)).toString()).toBe("abc");
    expect((await driver.head("empty")).size).toBe(0);
    expect(state.open.size).toBe(0);
  });

  it("a body that breaks leaves no object and hands the upload over to be aborted", async () => {
    const { driver, state } = watched();
    const pool = createPartPool({ partBytes, parts: 2 });
    const abandoned: string[] = [];
    const body = new PassThrough();
    body.write(randomBytes(partBytes * 2));
    const upload = uploadInParts("broken", body, {
      driver,
      pool,
      partsPerUpload: 2,
      abandon: (_key, id) => abandoned.push(id),
    });
    setImmediate(() => body.destroy(new Error("client went away")));
    await expect(upload).rejects.toThrow("client went away");
    await expect(driver.head("broken")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(abandoned).toHaveLength(1);
    expect(abandoned).toEqual([...state.open]);
    expect(pool.inUse()).toBe(0);
  });

  it("refuses a body needing more parts than the store takes: QUOTA_EXCEEDED, nothing stored", async () => {
    const { driver, state } = watched();
    const pool = createPartPool({ partBytes, parts: 2 });
    const abandoned: string[] = [];
    const upload = uploadInParts("too-big", Readable.from([randomBytes(partBytes * 3 + 1)]), {
      driver,
      pool,
      partsPerUpload: 2,
      maxParts: 3,
      abandon: (_key, id) => abandoned.push(id),
    });
    await expect(upload).rejects.toMatchObject({ code: "QUOTA_EXCEEDED", message: /at most 3 parts/ });
    await expect(driver.head("too-big")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(abandoned).toEqual([...state.open]);
    expect(abandoned).toHaveLength(1);
    expect(pool.inUse()).toBe(0);
    await uploadInParts("fits", Readable.from([randomBytes(partBytes * 3)]), {
      driver,
      pool,
      partsPerUpload: 2,
      maxParts: 3,
      abandon: () => {},
    });
    expect((await driver.head("fits")).size).toBe(partBytes * 3);
  });
});

describe("createAbortRetrier", () => {
  it("keeps aborting an upload while the store is down and succeeds once it is back", async () => {
    const { driver, state } = watched();
    const id = await driver.createMultipart("k");
    state.down = true;
    const retries: number[] = [];
    const aborts = createAbortRetrier({
      driver,
      delaysMs: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      onRetry: ({ attempt }) => {
        retries.push(attempt);
        if (attempt === 3) state.down = false;
      },
    });
    aborts.abandon("k", id);
    await expect.poll(() => aborts.pending()).toBe(0);
    expect(retries).toEqual([1, 2, 3]);
    expect(state.aborted).toEqual([id]);
    expect(state.open.size).toBe(0);
  });

  it("gives up after its last delay and reports the upload left behind", async () => {
    const { driver, state } = watched();
    const id = await driver.createMultipart("k");
    state.down = true;
    const given: string[] = [];
    const aborts = createAbortRetrier({
      driver,
      delaysMs: [1, 1],
      onGiveUp: ({ uploadId }) => given.push(uploadId),
    });
    aborts.abandon("k", id);
    await expect.poll(() => given).toEqual([id]);
    expect(aborts.pending()).toBe(0);
  });

  it("finish: retries a backed-off abort at once, waits for it, and names what is left", async () => {
    const { driver, state } = watched();
    const backedOff = await driver.createMultipart("a");
    const stuck = await driver.createMultipart("b");
    state.down = true;
    const aborts = createAbortRetrier({ driver, delaysMs: [3_600_000] });
    aborts.abandon("a", backedOff);
    await expect.poll(() => state.aborted.length === 0 && aborts.pending() === 1).toBe(true);
    state.down = false;
    const never = new Promise<void>(() => {});
    const slow: StorageDriver = {
      ...driver,
      abortMultipart: (key, id) => (id === stuck ? never : driver.abortMultipart(key, id)),
    };
    const both = createAbortRetrier({ driver: slow, delaysMs: [3_600_000] });
    both.abandon("b", stuck);
    const outcome = await aborts.finish(1000);
    expect(outcome).toEqual({ aborted: [{ key: "a", uploadId: backedOff }], left: [] });
    expect(await both.finish(10)).toEqual({
      aborted: [],
      left: [{ key: "b", uploadId: stuck, error: undefined }],
    });
    expect(aborts.pending() + both.pending()).toBe(0);
  });
});

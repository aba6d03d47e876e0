import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WharfError } from "@wharf/errors";
import { createMemoryDriver, type StorageDriver } from "@wharf/storage-driver";
import { tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { verifyVersions } from "./inspect.ts";
import { createMeta } from "./meta.ts";
import { pull } from "./pull.ts";
import { push } from "./push.ts";

const kib = 1024;
const unsupported = (capability: string) => () =>
  Promise.reject(new WharfError("UNSUPPORTED", `the store lacks the capability ${capability}`));

/**
 * The memory driver declaring it lacks `multipart`, `rangeRead` and `presign` (and `md5Etags`), each
 * method of them answering `UNSUPPORTED` as such a driver must: tycho has to work without all four.
 */
function lean(): StorageDriver {
  const memory = createMemoryDriver();
  return {
    ...memory,
    capabilities: {
      ...memory.capabilities,
      multipart: false,
      rangeRead: false,
      presign: false,
      md5Etags: false,
    },
    createMultipart: unsupported("multipart"),
    presign: unsupported("presign"),
    get: (key, options) => (options?.range ? unsupported("rangeRead")() : memory.get(key, options)),
  };
}

// Issue 25: each app works on a store without each optional capability, as its README says.
describe("tycho on a store without multipart, range reads, presign or md5 etags", () => {
  it("pushes a many-part file as one put, pulls it whole, and verifies it by its sha256", async () => {
    await using dir = await tempDir("tycho-lean-");
    const storage = lean();
    const context = {
      storage,
      now: () => new Date("2025-01-02T03:04:05Z"),
      user: "alice@ci",
      transfer: { partSize: 64 * kib, rangeSize: 64 * kib, concurrency: 4 },
      claimStaleAfterMs: 60_000,
    };
    const path = join(dir.path, "a.bin");
    const body = Buffer.from(Array.from({ length: 1000 * kib + 3 }, (_, i) => (i * 7) % 251));
    await writeFile(path, body);
    await createMeta(storage, "narf", "narf.bin");
    await push(context, { pkg: "narf", version: "1.0", path, promoteLatest: true });
    const pulled = await pull(context, { pkg: "narf", outdir: join(dir.path, "out"), cwd: dir.path });
    expect(pulled).toMatchObject({ skipped: false, verified: true });
    expect((await readFile(pulled.path)).equals(body)).toBe(true);
    const verified = await verifyVersions(context, "narf", []);
    expect(verified.map((e) => [e.version, e.status])).toEqual([["1.0", "ok"]]);
  });
});

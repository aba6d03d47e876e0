import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { testDriver } from "../src/conformance/index.ts";
import { createFsDriver, type FsPresignOptions } from "../src/drivers/fs/fs.ts";
import { handlePresignedRequest } from "../src/presigned-handler.ts";
import type { StorageDriver } from "../src/types.ts";

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const presign: FsPresignOptions = {
  baseUrl: "http://app.test/storage",
  credentials: { accessKeyId: "LOCALKEY", secretAccessKey: "local-secret" },
  region: "us-east-1",
};
let driver: StorageDriver | undefined;

testDriver({
  name: "fs",
  create: async () => {
    const root = await mkdtemp(join(tmpdir(), "wharf-fs-conformance-"));
    roots.push(root);
    driver = createFsDriver({ root, presign });
    return driver;
  },
  // Presigned URLs point at the app; route them straight into the handler an app would mount.
  fetch: async (request) => handlePresignedRequest(driver!, request, presign),
  largeObjectBytes: Number(process.env.WHARF_LARGE_OBJECT_BYTES ?? 1024 * 1024 * 1024),
});

testDriver({
  name: 'fs with etag: "version"',
  create: async () => {
    const root = await mkdtemp(join(tmpdir(), "wharf-fs-version-conformance-"));
    roots.push(root);
    return createFsDriver({ root, etag: "version" });
  },
  largeObjectBytes: 16 * 1024 * 1024,
});

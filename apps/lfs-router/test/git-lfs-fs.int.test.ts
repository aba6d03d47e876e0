import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage } from "@wharf/storage-driver";
import { gitLfsSuite } from "./git-lfs-suite.ts";

gitLfsSuite({
  name: "fs, proxy",
  openStore: async () => {
    const root = await mkdtemp(join(tmpdir(), "lfs-fs-store-"));
    const driver = await openStorage(`file://${root}`, { fsEtag: "version" });
    return {
      driver,
      dispose: async () => {
        await driver.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
  mode: "proxy",
  largeFileBytes: 200 * 1024 * 1024,
});

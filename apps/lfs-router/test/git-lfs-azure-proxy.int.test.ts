import { openStorage } from "@wharf/storage-driver";
import { createTestContainer } from "@wharf/test-kit";
import { gitLfsSuite } from "./git-lfs-suite.ts";

gitLfsSuite({
  name: "Azure Blob (Azurite), proxy",
  openStore: async () => {
    const container = await createTestContainer("lfs-router");
    const driver = await openStorage(container.storageUrl("lfs/"), { env: container.env });
    return {
      driver,
      dispose: async () => {
        await driver.close();
        await container[Symbol.asyncDispose]();
      },
    };
  },
  mode: "proxy",
  largeFileBytes: 32 * 1024 * 1024,
});

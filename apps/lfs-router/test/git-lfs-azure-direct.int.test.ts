import { openStorage } from "@wharf/storage-driver";
import { createTestContainer } from "@wharf/test-kit";
import { gitLfsSuite } from "./git-lfs-suite.ts";

gitLfsSuite({
  name: "Azure Blob (Azurite), direct (SAS URLs)",
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
  mode: "direct",
  largeFileBytes: 32 * 1024 * 1024,
});

import { createTestContainer } from "@wharf/test-kit";
import { cliSuite } from "./suite.ts";

cliSuite("Azure Blob (Azurite)", {
  md5Etags: false,
  async create() {
    const container = await createTestContainer("tycho");
    const blob = (key: string) => container.client.getBlockBlobClient(key);
    return {
      // The storage URL in the config file (so the suite can add settings to it), the key in the environment.
      config: { tycho: { storage: container.storageUrl() } },
      env: { ...container.env },
      raw: {
        async put(key, body, metadata) {
          await blob(key).upload(body, Buffer.byteLength(body), metadata ? { metadata } : {});
        },
        get: (key) => blob(key).downloadToBuffer(),
        async metadata(key) {
          return (await blob(key).getProperties()).metadata ?? {};
        },
      },
      [Symbol.asyncDispose]: () => container[Symbol.asyncDispose](),
    };
  },
});

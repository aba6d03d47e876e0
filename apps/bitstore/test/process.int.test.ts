import { join } from "node:path";
import { openStorage } from "@wharf/storage-driver";
import { freePort, spawnCheckedServer, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { authKeys } from "./helpers.ts";

const main = join(import.meta.dirname, "../src/main.ts");

/** bitstore's main.ts in local-disk mode on `dir`; resolves once it listens. */
async function spawnBitstore(dir: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const server = spawnCheckedServer(main, {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      HOST: "127.0.0.1",
      STORAGE_URL: `file://${dir}`,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATAHUB_PUBLIC_KEY: authKeys.publicKey,
      STORAGE_ACCESS_KEY_ID: "LOCALKEY",
      STORAGE_SECRET_ACCESS_KEY: "local-secret-for-tests",
      LOG_LEVEL: "info",
      ...env,
    },
  });
  await server.waitForOutput("bitstore listening");
  return server;
}

describe("bitstore as its own process (main.ts)", () => {
  // Regression (issue 20 §2): every large file /authorize names opens a multipart upload; those a
  // client never finished stayed in the store for good.
  it("aborts multipart uploads older than ABANDONED_UPLOAD_HOURS at start-up, and only those", async () => {
    await using dir = await tempDir("bitstore-process-");
    const driver = await openStorage(`file://${dir.path}`);
    const pending = async () => {
      let count = 0;
      for await (const _ of driver.listMultipartUploads()) count++;
      return count;
    };
    const uploadId = await driver.createMultipart("bob/ds/left-behind.bin");
    await driver.uploadPart("bob/ds/left-behind.bin", uploadId, 1, "a part nobody completed");
    {
      await using young = await spawnBitstore(dir.path);
      expect(await pending()).toBe(1);
      expect(await young.stop(), young.log()).toBe(0);
    }
    {
      await using old = await spawnBitstore(dir.path, { ABANDONED_UPLOAD_HOURS: String(1e-9) });
      await old.waitForOutput("aborted abandoned multipart uploads");
      expect(await pending()).toBe(0);
      expect(await old.stop(), old.log()).toBe(0);
    }
    await driver.close();
  });
});

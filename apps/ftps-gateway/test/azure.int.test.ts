import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openStorage, readAll, type StorageDriver } from "@wharf/storage-driver";
import { createTestContainer, type TestContainer } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lftp } from "./clients.ts";
import { type Gateway, startGateway } from "./harness.ts";

// Issue 25: the gateway on Azure Blob (Azurite), driven by the real lftp over explicit FTPS. Azure has
// no atomic rename and no folder markers: the gateway moves by copy and delete, and keeps folders as
// its marker objects.
describe("lftp through the gateway on Azure Blob (Azurite)", () => {
  let container: TestContainer;
  let driver: StorageDriver;
  let gateway: Gateway;

  beforeAll(async () => {
    container = await createTestContainer("ftps-gateway");
    driver = await openStorage(container.storageUrl("ftp/"), { env: container.env });
    gateway = await startGateway({ driver });
  });
  afterAll(async () => {
    await gateway?.[Symbol.asyncDispose]();
    await driver?.close();
    await container?.[Symbol.asyncDispose]();
  });

  it("puts a multi-MiB file, lists, gets, renames, removes and makes folders, bytes unchanged", async () => {
    expect(driver.capabilities.rename).toBe(false);
    const data = randomBytes(9 * 1024 * 1024 + 17);
    const file = join(gateway.dir, "data.bin");
    await writeFile(file, data);
    const back = join(gateway.dir, "back.bin");
    const moved = join(gateway.dir, "moved.bin");
    const result = await lftp(
      gateway,
      "explicit",
      [
        "mkdir reports",
        "cd reports",
        `put ${file} -o data.bin`,
        "cls -l",
        `get data.bin -o ${back}`,
        "mv data.bin renamed.bin",
        "mkdir inner",
        "mv renamed.bin inner/final.bin",
        "cls -1 inner",
        `get inner/final.bin -o ${moved}`,
        "rm inner/final.bin",
        "rmdir inner",
        "cd ..",
        "cls -1",
      ].join("; "),
    );
    expect(result.stdout).toMatch(/^-\S+ +9437201 .* data\.bin$/m);
    expect(result.stdout).toMatch(/^inner\/final\.bin$/m);
    expect((await readFile(back)).equals(data)).toBe(true);
    expect((await readFile(moved)).equals(data)).toBe(true);
    expect(result.stdout).toMatch(/^reports\/?$/m);
    // The store holds what lftp left: the folder and no object of the removed file.
    const blobs: string[] = [];
    for await (const blob of container.client.listBlobsFlat({ prefix: "ftp/" })) blobs.push(blob.name);
    expect(blobs.some((name) => name.includes("final.bin") || name.includes("data.bin"))).toBe(false);
    await expect(driver.head("reports/inner/final.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("stores an upload as the exact bytes in the container", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const file = join(gateway.dir, "direct.bin");
    await writeFile(file, data);
    await lftp(gateway, "explicit", `put ${file} -o direct.bin`);
    const stored = await readAll((await driver.get("direct.bin")).body, { maxBytes: 4 * 1024 * 1024 });
    expect(stored.equals(data)).toBe(true);
    expect(
      (await container.client.getBlockBlobClient("ftp/direct.bin").downloadToBuffer()).equals(data),
    ).toBe(true);
  });

  it("keeps folders as marker files where the store has no folder markers, and moves them by copying", async () => {
    expect(driver.capabilities.folderMarkers).toBe(false);
    // aioftps3's README suffix "/" asks for S3 folder markers (`dir/`); Azure holds none.
    await using slash = await startGateway({ driver, env: { AWS_S3_BUCKET__DIR_SUFFIX: "/" } });
    const file = join(slash.dir, "small.bin");
    await writeFile(file, "folder content");
    const result = await lftp(
      slash,
      "explicit",
      ["mkdir box", `put ${file} -o box/small.bin`, "mv box crate", "cls -1 crate", "cls -1"].join("; "),
    );
    expect(result.stdout).toMatch(/^crate\/small\.bin$/m);
    expect(result.stdout).toMatch(/^crate\/?$/m);
    expect(result.stdout).not.toMatch(/^box\/?$/m);
    expect((await driver.head("crate/.s3keep")).size).toBe(0);
    expect((await readAll((await driver.get("crate/small.bin")).body)).toString()).toBe("folder content");
    await expect(driver.head("box/small.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

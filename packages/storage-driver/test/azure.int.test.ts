import { PassThrough } from "node:stream";
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { isWharfError } from "@wharf/errors";
import { azureEnv } from "@wharf/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAll } from "../src/body.ts";
import { prngBytes, prngStream, sha256Hex, testDriver } from "../src/conformance/index.ts";
import { createAzureDriver } from "../src/drivers/azure/azure.ts";
import { createAzureServiceClient } from "../src/drivers/azure/credentials.ts";
import { openStorage } from "../src/open-storage.ts";
import type { StorageDriver } from "../src/types.ts";
import { withKeyValidation } from "../src/with-key-validation.ts";

const container = `wharf-conformance-${Date.now().toString(36)}`;
const service = () => createAzureServiceClient(azureEnv());
const rawContainer = () => service().getContainerClient(container);

function driverFor(prefix: string, blockSize = 2 * 1024 * 1024): StorageDriver {
  return withKeyValidation(createAzureDriver({ service: service(), container, prefix, blockSize }));
}

beforeAll(async () => {
  await service().getContainerClient(container).create();
});
afterAll(async () => {
  await service().getContainerClient(container).deleteIfExists();
});

testDriver({
  name: "azure (Azurite)",
  // 2 MiB blocks: the 6 MiB streamed races commit staged block lists, not single puts.
  create: async () => driverFor("conformance/"),
  largeObjectBytes: 64 * 1024 * 1024,
  manyKeys: 1001,
});

describe("azure driver specifics", () => {
  it("leaves nothing visible when a streamed body fails its sha256 after blocks were staged", async () => {
    const driver = driverFor("sha-check/");
    const error = await driver
      .put("big", prngStream(5 * 1024 * 1024, 3), { sha256: sha256Hex("something else") })
      .catch((e: unknown) => e);
    expect(isWharfError(error, "CHECKSUM_MISMATCH")).toBe(true);
    expect(isWharfError(await driver.head("big").catch((e: unknown) => e), "NOT_FOUND")).toBe(true);
    expect((await driver.list({ prefix: "" })).objects).toEqual([]);
  });

  it("refuses a streamed ifNoneMatch put that a writer overtook while it staged blocks, keeping the winner", async () => {
    const driver = driverFor("overtaken/");
    const body = new PassThrough();
    const pending = driver.put("k", body, { ifNoneMatch: "*" }).then(
      () => "resolved",
      (error: unknown) => (isWharfError(error) ? error.code : "not a WharfError"),
    );
    body.write(prngBytes(5 * 1024 * 1024, 1));
    const staged = async () => {
      const list = await rawContainer()
        .getBlockBlobClient("overtaken/k")
        .getBlockList("uncommitted")
        .catch(() => undefined);
      return list?.uncommittedBlocks?.length ?? 0;
    };
    await expect.poll(staged, { timeout: 10_000 }).toBeGreaterThan(0);
    await driver.put("k", "winner");
    body.end(prngBytes(1024 * 1024, 2));
    expect(await pending).toBe("PRECONDITION_FAILED");
    expect((await readAll((await driver.get("k")).body)).toString()).toBe("winner");
  });

  it("reports a wrong account key as UNAUTHENTICATED or PERMISSION_DENIED", async () => {
    const env = azureEnv();
    const driver = createAzureDriver({
      service: createAzureServiceClient({ ...env, key: Buffer.from("wrong key").toString("base64") }),
      container,
    });
    const error = await driver.head("anything").catch((e: unknown) => e);
    expect(isWharfError(error) && ["UNAUTHENTICATED", "PERMISSION_DENIED"].includes(error.code)).toBe(true);
  });

  it("reports an unreachable endpoint as UNAVAILABLE", async () => {
    const env = azureEnv();
    const driver = createAzureDriver({
      service: createAzureServiceClient({ ...env, endpoint: `http://127.0.0.1:9/${env.account}` }),
      container,
    });
    const error = await driver.head("anything").catch((e: unknown) => e);
    expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
  });

  it("reports a missing container as UNAVAILABLE, not as a missing object", async () => {
    const driver = createAzureDriver({ service: service(), container: `${container}-absent` });
    for (const attempt of [() => driver.put("k", "body"), () => driver.list()]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
    }
  });

  it.each([
    ["AZURE_STORAGE_KEY", (env: { key: string }) => ({ AZURE_STORAGE_KEY: env.key })],
    [
      "AZURE_STORAGE_CONNECTION_STRING",
      (env: { endpoint: string; account: string; key: string }) => ({
        AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${env.account};AccountKey=${env.key};BlobEndpoint=${env.endpoint};`,
      }),
    ],
  ])("opens an azure:// URL with credentials from %s", async (_name, credentials) => {
    const env = azureEnv();
    const url = `azure://${env.account}/${container}/via-url/?endpoint=${env.endpoint}`;
    const driver = await openStorage(url, { env: credentials(env) });
    await driver.put("k", "through the URL");
    expect((await readAll((await driver.get("k")).body)).toString()).toBe("through the URL");
    expect((await driver.list({ prefix: "" })).objects.map((o) => o.key)).toContain("k");
    expect(driver.capabilities.presign).toBe(true);
    await driver.close();
  });

  it("opens an azure:// URL with AZURE_STORAGE_SAS_TOKEN, and then cannot presign", async () => {
    const env = azureEnv();
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 600_000),
        permissions: AccountSASPermissions.parse("rwdlc"),
        resourceTypes: AccountSASResourceTypes.parse("sco").toString(),
        services: AccountSASServices.parse("b").toString(),
      },
      new StorageSharedKeyCredential(env.account, env.key),
    ).toString();
    const url = `azure://${env.account}/${container}/via-sas/?endpoint=${env.endpoint}`;
    const driver = await openStorage(url, { env: { AZURE_STORAGE_SAS_TOKEN: sas } });
    await driver.put("k", "with a SAS");
    expect((await readAll((await driver.get("k")).body)).toString()).toBe("with a SAS");
    expect(driver.capabilities.presign).toBe(false);
    const error = await driver.presign("k", { method: "GET", expiresIn: 60 }).catch((e: unknown) => e);
    expect(isWharfError(error, "UNSUPPORTED")).toBe(true);
  });

  it("refuses a key for another account than the URL's", async () => {
    const env = azureEnv();
    const url = `azure://${env.account}/${container}?endpoint=${env.endpoint}`;
    const error = await openStorage(url, {
      env: { AZURE_STORAGE_ACCOUNT: "someoneelse", AZURE_STORAGE_KEY: env.key },
    }).catch((e: unknown) => e);
    expect(isWharfError(error, "INVALID_ARGUMENT")).toBe(true);
  });

  it("keeps the name prefix out of keys it returns", async () => {
    const driver = driverFor("tenant-a/");
    await driver.put("x/y", "1");
    const page = await driver.list({ prefix: "x/" });
    expect(page.objects.map((o) => o.key)).toEqual(["x/y"]);
    expect((await driver.head("x/y")).key).toBe("x/y");
  });
});

import { createMemoryDriver, type StorageDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { authKeys, buildApp, fileEntry, token } from "../test/helpers.ts";
import { loadConfig } from "./config.ts";
import { formsBucket, storeNeeds } from "./store-needs.ts";

const s3Url = "s3://data?endpoint=http://127.0.0.1:7480&forcePathStyle=true";
const env = (overrides: Record<string, string>) => ({
  DATAHUB_PUBLIC_KEY: authKeys.publicKey,
  STORAGE_ACCESS_KEY_ID: "a",
  STORAGE_SECRET_ACCESS_KEY: "b",
  ...overrides,
});
const lacking = (
  driver: StorageDriver,
  capabilities: Partial<StorageDriver["capabilities"]>,
): StorageDriver => ({
  ...driver,
  capabilities: { ...driver.capabilities, ...capabilities },
});

async function uploadUrl(driver: StorageDriver, storageUrl: string): Promise<string> {
  const app = buildApp({ driver, env: { STORAGE_URL: storageUrl } });
  const res = await app.request("/rawstore/authorize", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
    body: JSON.stringify({ metadata: { owner: "bob", name: "ds" }, filedata: { "a.csv": fileEntry("a") } }),
  });
  return ((await res.json()) as { filedata: { "a.csv": { upload_url: string } } }).filedata["a.csv"]
    .upload_url;
}

describe("bitstore decides by the store's capabilities", () => {
  it("points the forms at the bucket only when the store takes browser POSTs", async () => {
    const memory = createMemoryDriver();
    expect(await uploadUrl(lacking(memory, { presignedPost: true }), s3Url)).toBe(
      "http://127.0.0.1:7480/data",
    );
    expect(await uploadUrl(memory, s3Url)).toBe("http://bitstore.test/rawstore/s3/store");
    // A store that takes POSTs but whose URL names no bucket to sign them for: bitstore takes them.
    expect(await uploadUrl(lacking(memory, { presignedPost: true }), "memory:")).toBe(
      "http://bitstore.test/rawstore/s3/store",
    );
  });

  it("warns without presignedPost on a bucket, and refuses without PUBLIC_URL or conditionalWrite", () => {
    const memory = createMemoryDriver();
    const withUrl = loadConfig(env({ STORAGE_URL: s3Url, PUBLIC_URL: "http://b.test" }));
    expect(storeNeeds(memory, withUrl)).toEqual({
      refusals: [],
      warnings: [expect.stringMatching(/presignedPost.*http:\/\/b\.test/)],
    });
    expect(formsBucket(memory, withUrl.storage)).toBeUndefined();
    const noUrl = loadConfig(env({ STORAGE_URL: s3Url }));
    expect(storeNeeds(memory, noUrl).refusals).toEqual([expect.stringMatching(/presignedPost.*PUBLIC_URL/)]);
    const local = loadConfig(env({ STORAGE_URL: "memory:", PUBLIC_URL: "http://b.test" }));
    expect(storeNeeds(memory, local)).toEqual({ refusals: [], warnings: [] });
    expect(storeNeeds(lacking(memory, { conditionalWrite: false }), local).refusals).toEqual([
      expect.stringMatching(/^the store lacks the capability conditionalWrite/),
    ]);
  });
});

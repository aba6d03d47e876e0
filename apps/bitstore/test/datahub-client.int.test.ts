import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { openStorage, readAll } from "@wharf/storage-driver";
import { createTestBucket, s3Env, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { startDataHubApi } from "./datahub-api.ts";
import { startBitstore } from "./harness.ts";
import { md5 } from "./helpers.ts";

// The real npm package DataHub's users run (`data push` is `DataHub.push`), and the data.js it loads
// datasets with.
const require = createRequire(import.meta.url);
const { DataHub } = require("datahub-client") as {
  DataHub: new (o: {
    apiUrl: string;
    token: string;
    ownerid: string;
    owner: string;
  }) => {
    push(dataset: unknown, options: { findability: string }): Promise<unknown>;
    close(): void;
  };
};
const { Dataset } = createRequire(require.resolve("datahub-client"))("data.js") as {
  Dataset: { load(path: string): Promise<{ descriptor: unknown }> };
};

const csv = "id,city\n1,Lyon\n2,Graz\n";
/** A key pattern without `{name}`: DataHub's client sends no dataset name. */
const contentAddressed = "{owner}/{md5_hex}/{basename}";

async function datasetDir() {
  const dir = await tempDir("datahub-ds-");
  await writeFile(join(dir.path, "cities.csv"), csv);
  const descriptor = { name: "cities", resources: [{ name: "cities", path: "cities.csv", format: "csv" }] };
  await writeFile(join(dir.path, "datapackage.json"), JSON.stringify(descriptor));
  return dir;
}

const stores = [
  {
    name: "local disk",
    open: async () => {
      const dir = await tempDir("bitstore-dh-");
      const url = `file://${dir.path}`;
      const driver = await openStorage(url);
      return {
        env: { STORAGE_URL: url },
        driver,
        [Symbol.asyncDispose]: async () => {
          await driver.close();
          await dir[Symbol.asyncDispose]();
        },
      };
    },
  },
  {
    name: "Ceph RGW",
    open: async () => {
      const s3 = s3Env();
      const bucket = await createTestBucket("bitstore-dh");
      const url = `s3://${bucket.name}?endpoint=${s3.endpoint}&region=${s3.region}&forcePathStyle=true`;
      const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
      const driver = await openStorage(url, { credentials });
      return {
        env: {
          STORAGE_URL: url,
          STORAGE_REGION: s3.region,
          STORAGE_ACCESS_KEY_ID: s3.accessKeyId,
          STORAGE_SECRET_ACCESS_KEY: s3.secretAccessKey,
        },
        driver,
        [Symbol.asyncDispose]: async () => {
          await driver.close();
          await bucket[Symbol.asyncDispose]();
        },
      };
    },
  },
];

describe.each(stores)("DataHub's client (datahub-client 0.5) against bitstore on $name", (store) => {
  it("pushes a dataset end to end: no metadata.name, datapackage.json posted without a filename", async () => {
    await using target = await store.open();
    await using bitstore = await startBitstore({
      env: { ...target.env, STORAGE_PATH_PATTERN: contentAddressed },
      driver: target.driver,
    });
    await using api = await startDataHubApi({ userid: "bob", bitstore: bitstore.url });
    await using dir = await datasetDir();
    const client = new DataHub({ apiUrl: api.url, token: "user-login-token", ownerid: "bob", owner: "bob" });
    try {
      const dataset = await Dataset.load(dir.path);
      await expect(client.push(dataset, { findability: "unlisted" })).resolves.toMatchObject({
        success: true,
      });
    } finally {
      client.close();
    }

    // Both files are stored under the owner's prefix with the exact bytes.
    const csvKey = `bob/${Buffer.from(md5(csv), "base64").toString("hex")}/cities.csv`;
    expect((await readAll((await target.driver.get(csvKey)).body)).toString()).toBe(csv);

    // The spec DataHub's pipeline gets links to both files through bitstore's presigned GETs.
    const spec = api.specs[0] as {
      inputs: [{ url: string; parameters: { "resource-mapping": Record<string, string> } }];
    };
    const descriptor = await (await fetch(spec.inputs[0].url)).json();
    expect(descriptor).toMatchObject({ name: "cities", resources: [{ name: "cities" }] });
    const mapped = spec.inputs[0].parameters["resource-mapping"]["cities.csv"] as string;
    expect(await (await fetch(mapped)).text()).toBe(csv);

    // /info names a prefix of the objects' URLs, with the store's real port.
    const info = await bitstore.call("/rawstore/info", "bob", undefined, "GET");
    const { prefixes } = (await info.json()) as { prefixes: string[] };
    const formUrl = new URL(mapped.split("?")[0] as string);
    const objectUrl = `${formUrl.origin}${formUrl.pathname}`;
    expect(prefixes.some((p) => objectUrl.startsWith(`${p}/`))).toBe(true);
  });

  it("shows bitstore's own message on the user's screen when the key pattern needs {name}", async () => {
    await using target = await store.open();
    await using bitstore = await startBitstore({ env: target.env, driver: target.driver });
    await using api = await startDataHubApi({ userid: "bob", bitstore: bitstore.url });
    await using dir = await datasetDir();
    const client = new DataHub({ apiUrl: api.url, token: "user-login-token", ownerid: "bob", owner: "bob" });
    try {
      const pushed = client.push(await Dataset.load(dir.path), { findability: "unlisted" });
      await expect(pushed).rejects.toMatchObject({
        status: 400,
        message: expect.stringContaining("metadata.name is required"),
      });
    } finally {
      client.close();
    }
    // ...while the body stays machine-readable for Wharf's own clients.
    const res = await bitstore.call("/rawstore/authorize", "bob", {
      metadata: { owner: "bob" },
      filedata: { "a.csv": { length: 1, md5: md5("a"), name: "a" } },
    });
    expect(await res.json()).toMatchObject({ code: "INVALID_ARGUMENT", error: { code: "INVALID_ARGUMENT" } });
  });
});

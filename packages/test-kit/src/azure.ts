import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { azureEnv } from "./inject.ts";
import { uniqueBucketName } from "./s3.ts";

export interface TestContainer extends AsyncDisposable {
  /** The container's name (unique per call). */
  readonly name: string;
  /** The storage URL of the container, or of `prefix` (ends with `/`) inside it, on the Azurite under test. */
  storageUrl(prefix?: string): string;
  /** The credentials `openStorage` reads for it (`{ env }`): the account key as `AZURE_STORAGE_KEY`. */
  readonly env: Readonly<Record<string, string>>;
  /** The SDK's client of the container, to lay out or damage blobs behind a driver's back. */
  readonly client: ContainerClient;
}

/** A fresh container on the Azurite under test; disposing deletes it with everything in it. */
export async function createTestContainer(label: string): Promise<TestContainer> {
  const env = azureEnv();
  const service = new BlobServiceClient(env.endpoint, new StorageSharedKeyCredential(env.account, env.key));
  const name = uniqueBucketName(label);
  const container = service.getContainerClient(name);
  await container.create();
  return {
    name,
    storageUrl: (prefix = "") =>
      `azure://${env.account}/${name}/${prefix}?${new URLSearchParams({ endpoint: env.endpoint })}`,
    env: { AZURE_STORAGE_KEY: env.key },
    client: container,
    async [Symbol.asyncDispose]() {
      await container.deleteIfExists();
    },
  };
}

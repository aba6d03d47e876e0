import {
  BlobServiceClient,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { WharfError } from "@wharf/errors";

type Env = Readonly<Record<string, string | undefined>>;

export interface AzureServiceOptions {
  readonly account: string;
  /** Blob service URL; default `https://<account>.blob.core.windows.net`. Azurite's is `http://127.0.0.1:<port>/<account>`. */
  readonly endpoint?: string;
  /** Shared key of `account`; without it, the environment decides (see `azureServiceFromEnv`). */
  readonly key?: string;
}

/** Retries stay short: a request that fails this often means the service is down (`UNAVAILABLE`). */
const pipeline: StoragePipelineOptions = {
  retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
};

export const defaultAzureEndpoint = (account: string) => `https://${account}.blob.core.windows.net`;

/** A Blob service client with a shared key. */
export function createAzureServiceClient(options: AzureServiceOptions & { key: string }): BlobServiceClient {
  const endpoint = options.endpoint ?? defaultAzureEndpoint(options.account);
  return new BlobServiceClient(
    endpoint,
    new StorageSharedKeyCredential(options.account, options.key),
    pipeline,
  );
}

/**
 * A Blob service client with Azure's usual credentials, in this order: `AZURE_STORAGE_CONNECTION_STRING`
 * (its account must be the URL's); `AZURE_STORAGE_KEY` (the key of the URL's account; when
 * `AZURE_STORAGE_ACCOUNT` is set it must name that account); `AZURE_STORAGE_SAS_TOKEN`; else
 * `DefaultAzureCredential` from `@azure/identity` (environment, workload or managed identity, Azure CLI…).
 */
export async function azureServiceFromEnv(
  options: AzureServiceOptions,
  env: Env,
): Promise<BlobServiceClient> {
  const endpoint = (options.endpoint ?? defaultAzureEndpoint(options.account)).replace(/\/$/, "");
  if (options.key !== undefined) return createAzureServiceClient({ ...options, key: options.key });
  const connection = env.AZURE_STORAGE_CONNECTION_STRING;
  if (connection) {
    const name = /(?:^|;)\s*AccountName=([^;]+)/i.exec(connection)?.[1];
    if (name !== undefined && name !== options.account)
      throw new WharfError(
        "INVALID_ARGUMENT",
        `AZURE_STORAGE_CONNECTION_STRING is for account ${name}, the storage URL names ${options.account}`,
      );
    return BlobServiceClient.fromConnectionString(connection, pipeline);
  }
  if (env.AZURE_STORAGE_KEY) {
    if (env.AZURE_STORAGE_ACCOUNT && env.AZURE_STORAGE_ACCOUNT !== options.account)
      throw new WharfError(
        "INVALID_ARGUMENT",
        `AZURE_STORAGE_KEY is for account ${env.AZURE_STORAGE_ACCOUNT}, the storage URL names ${options.account}`,
      );
    return createAzureServiceClient({ account: options.account, endpoint, key: env.AZURE_STORAGE_KEY });
  }
  if (env.AZURE_STORAGE_SAS_TOKEN)
    return new BlobServiceClient(
      `${endpoint}?${env.AZURE_STORAGE_SAS_TOKEN.replace(/^\?/, "")}`,
      undefined,
      pipeline,
    );
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new BlobServiceClient(endpoint, new DefaultAzureCredential(), pipeline);
}

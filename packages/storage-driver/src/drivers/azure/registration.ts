import type { DriverRegistration } from "../registration.ts";
import { integerOption, invalidStorageUrl, prefixFromPath } from "../url-options.ts";

/** `azure://<account>/<container>[/<prefix>/]?endpoint=…&blockSize=…&concurrency=…` */
export interface AzureConfig {
  readonly kind: "azure";
  readonly account: string;
  readonly container: string;
  readonly prefix: string;
  /** Blob service URL; absent: `https://<account>.blob.core.windows.net`. */
  readonly endpoint?: string;
  readonly blockSize?: number;
  readonly concurrency?: number;
}

export const azureRegistration: DriverRegistration<AzureConfig> = {
  kind: "azure",
  schemes: ["azure"],
  options: ["endpoint", "blockSize", "concurrency"],
  // In this order (see `azureServiceFromEnv`); without any, `DefaultAzureCredential` reads
  // AZURE_CLIENT_ID, AZURE_TENANT_ID, … (workload or managed identity, Azure CLI login).
  credentials: [
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_SAS_TOKEN",
  ],
  location: "remote",
  capabilities: {
    rangeRead: true,
    conditionalWrite: true,
    presign: "depends",
    presignedPost: false,
    multipart: true,
    rename: false,
    folderMarkers: false,
    md5Etags: false,
  },
  parse(parsed, { url }) {
    const params = parsed.searchParams;
    const account = parsed.hostname;
    if (!/^[a-z0-9]{3,24}$/.test(account))
      throw invalidStorageUrl(url, "missing or invalid storage account name");
    const path = parsed.pathname.replace(/^\/+/, "");
    const slash = path.indexOf("/");
    const container = slash < 0 ? path : path.slice(0, slash);
    if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(container))
      throw invalidStorageUrl(
        url,
        "missing or invalid container name (3-63 lower-case letters, digits, single hyphens)",
      );
    const prefix = slash < 0 ? "" : prefixFromPath(url, path.slice(slash + 1));
    const endpoint = params.get("endpoint") ?? undefined;
    if (endpoint !== undefined && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(endpoint))
      throw invalidStorageUrl(url, "endpoint must be the blob service URL, http(s)://host[:port][/path]");
    const blockSize = integerOption(url, params, "blockSize", 1024 * 1024);
    const concurrency = integerOption(url, params, "concurrency", 1);
    return {
      kind: "azure",
      account,
      container,
      prefix,
      ...(endpoint === undefined ? {} : { endpoint: endpoint.replace(/\/$/, "") }),
      ...(blockSize === undefined ? {} : { blockSize }),
      ...(concurrency === undefined ? {} : { concurrency }),
    };
  },
  describe: (config) =>
    `${config.endpoint ?? `Azure account ${config.account}`} (container ${config.container})`,
  async open({ kind: _, account, endpoint, ...config }, options) {
    const [{ createAzureDriver }, { azureServiceFromEnv }] = await Promise.all([
      import("./azure.ts"),
      import("./credentials.ts"),
    ]);
    const service = await azureServiceFromEnv(
      { account, ...(endpoint === undefined ? {} : { endpoint }) },
      options.env ?? process.env,
    );
    return createAzureDriver({ service, ...config });
  },
};

import type { DriverRegistration } from "../registration.ts";
import {
  booleanOption,
  integerOption,
  invalidStorageUrl,
  optionalBoolean,
  prefixFromPath,
} from "../url-options.ts";

/** `s3://bucket[/prefix/]?endpoint=…&region=…&…` */
export interface S3Config {
  readonly kind: "s3";
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly forcePathStyle: boolean;
  readonly partSize?: number;
  readonly queueSize?: number;
  /** Stated by the URL; probed at open when absent. */
  readonly conditionalWrite?: boolean;
  readonly presignedPost?: boolean;
  readonly maxParts?: number;
  readonly maxSockets?: number;
}

export const s3Registration: DriverRegistration<S3Config> = {
  kind: "s3",
  schemes: ["s3"],
  options: [
    "endpoint",
    "region",
    "forcePathStyle",
    "partSize",
    "queueSize",
    "conditionalWrite",
    "presignedPost",
    "maxParts",
    "maxSockets",
  ],
  // The AWS SDK's default chain reads these (and the shared profile, ECS/IMDS); apps may pass
  // `credentials` instead, from their own variables.
  credentials: [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
  ],
  location: "remote",
  capabilities: {
    rangeRead: true,
    conditionalWrite: "depends",
    presign: true,
    presignedPost: "depends",
    multipart: true,
    rename: false,
    folderMarkers: true,
    md5Etags: true,
  },
  parse(parsed, { url }) {
    const params = parsed.searchParams;
    const bucket = parsed.hostname;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
      throw invalidStorageUrl(url, "missing or invalid bucket name");
    const prefix = prefixFromPath(url, parsed.pathname.replace(/^\/+/, ""));
    const endpoint = params.get("endpoint") ?? undefined;
    if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) {
      throw invalidStorageUrl(url, "endpoint must be http(s)://host[:port]");
    }
    const region = params.get("region") ?? undefined;
    const partSize = integerOption(url, params, "partSize", 5 * 1024 * 1024);
    const queueSize = integerOption(url, params, "queueSize", 1);
    const maxParts = integerOption(url, params, "maxParts", 1);
    const maxSockets = integerOption(url, params, "maxSockets", 1);
    if (maxParts !== undefined && maxParts > 10_000)
      throw invalidStorageUrl(url, "maxParts must be at most 10000");
    return {
      kind: "s3",
      bucket,
      prefix,
      forcePathStyle: booleanOption(url, params, "forcePathStyle", endpoint !== undefined),
      ...(endpoint === undefined ? {} : { endpoint: endpoint.replace(/\/$/, "") }),
      ...(region === undefined ? {} : { region }),
      ...(partSize === undefined ? {} : { partSize }),
      ...(queueSize === undefined ? {} : { queueSize }),
      ...(maxParts === undefined ? {} : { maxParts }),
      ...(maxSockets === undefined ? {} : { maxSockets }),
      ...optionalBoolean(url, params, "conditionalWrite"),
      ...optionalBoolean(url, params, "presignedPost"),
    };
  },
  describe: (config) => `${config.endpoint ?? "AWS S3"} (bucket ${config.bucket})`,
  async open({ kind: _, ...config }, options) {
    const { openS3Driver } = await import("./s3.ts");
    return openS3Driver({
      ...config,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
  },
};

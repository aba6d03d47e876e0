import { WharfError } from "@wharf/errors";
import { createPresigner, type ObjectLocation } from "@wharf/s3-signing";
import type { StorageDriver } from "@wharf/storage-driver";
import { createAuthorizer } from "./authorizer.ts";
import type { BitstoreConfig, BucketLocation } from "./config.ts";
import type { FormTarget } from "./forms.ts";
import { compileKeyPattern } from "./key-pattern.ts";
import { createMultipart } from "./multipart.ts";
import type { Principal } from "./principal.ts";
import { createQuota } from "./quota.ts";
import { formsBucket } from "./store-needs.ts";
import { createRedirectTokens, createUploadVerifier } from "./verify-upload.ts";

/** Bucket name the local-disk mode presents, at `/{service}/s3/<this>`. */
export const localBucket = "store";

/** Everything the HTTP layer calls, built once from the config and the store. */
export function createServices(options: { config: BitstoreConfig; driver: StorageDriver; now?: () => Date }) {
  const { config, driver } = options;
  const now = options.now ?? (() => new Date());
  const keyPattern = compileKeyPattern(config.keyPattern);
  const bucket = formsBucket(driver, config.storage);
  const localEndpoint = `${config.publicUrl ?? "http://localhost"}/${config.serviceName}/s3`;
  const location = (key: string): ObjectLocation =>
    bucket
      ? {
          endpoint: bucket.endpoint,
          bucket: bucket.name,
          key: `${bucket.prefix}${key}`,
          forcePathStyle: bucket.forcePathStyle,
        }
      : { endpoint: localEndpoint, bucket: localBucket, key, forcePathStyle: true };
  const forms: FormTarget = {
    url: bucket ? bucketUrl(bucket) : `${localEndpoint}/${localBucket}`,
    bucket: bucket ? bucket.name : localBucket,
    keyPrefix: bucket ? bucket.prefix : "",
    region: config.region,
    credentials: config.credentials,
  };
  const presigner = createPresigner({ credentials: config.credentials, region: config.region });
  const multipart = createMultipart({
    driver,
    statePrefix: config.statePrefix,
    partSize: config.partSize,
    now,
    signPart: ({ key, uploadId, partNumber, size, md5 }) => {
      const headers: Record<string, string> = { "content-length": String(size) };
      if (md5) headers["content-md5"] = md5;
      return {
        part_number: partNumber,
        url: presigner.presignUrl({
          method: "PUT",
          url: location(key),
          expiresIn: config.uploadExpiresIn,
          headers,
          query: { partNumber: String(partNumber), uploadId },
          now: now(),
        }),
        headers,
      };
    },
  });
  const quota = createQuota({ driver, statePrefix: config.statePrefix, now });
  const redirectTokens = createRedirectTokens(config.credentials.secretAccessKey, now);
  const verifyPath = `${config.publicUrl}/${config.serviceName}/verify`;
  const authorizer = createAuthorizer({
    driver,
    keyPattern,
    statePrefix: config.statePrefix,
    forms,
    expiresIn: config.uploadExpiresIn,
    multipartThreshold: config.multipartThreshold,
    multipart,
    quota,
    now,
    ...(config.verifyUploads === "redirect"
      ? {
          redirectFor: (file: { key: string; md5: string; length: number }) =>
            `${verifyPath}/${redirectTokens.issue(file, config.uploadExpiresIn)}`,
        }
      : {}),
  });

  /** A presigned GET, only for keys under the caller's own prefix. Never signs a caller's URL. */
  function presignDownload(principal: Principal, key: string): string {
    const own = keyPattern.ownerPrefix(principal.userid);
    if (
      own === "" ||
      !key.startsWith(own) ||
      key.startsWith(config.statePrefix) ||
      key.length === own.length
    ) {
      throw new WharfError("PERMISSION_DENIED", "you can only download objects under your own prefix");
    }
    return presigner.presignUrl({
      method: "GET",
      url: location(key),
      expiresIn: config.downloadExpiresIn,
      now: now(),
    });
  }

  /** Maps an object URL this bitstore hands out back to its key (the upstream `/presign?url=`). */
  function keyFromUrl(url: string): string | undefined {
    const base = `${forms.url}/${forms.keyPrefix}`;
    const clean = url.split("?")[0] as string;
    if (!clean.startsWith(base)) return undefined;
    try {
      return decodeURIComponent(clean.slice(base.length));
    } catch {
      return undefined;
    }
  }

  /**
   * `/info`: the fork's eight URLs (http/https, with and without port, store host and bucket host)
   * for a store on the default ports; a store on its own port is reached there only, in its own
   * scheme, so it gets the two URLs with that port (the fork wrote `:80` whatever the port was).
   */
  function prefixes(userid: string): string[] {
    const own = keyPattern.ownerPrefix(userid).replace(/\/$/, "") || userid;
    const bucketUrl = new URL(forms.url);
    const path = `${bucketUrl.pathname.replace(/^\/|\/$/g, "")}`;
    const keyPath = `${forms.keyPrefix}${own}`;
    const places = [
      [bucketUrl.hostname, path],
      [forms.bucket, ""],
    ] as const;
    const url = (scheme: string, host: string, port: string, p: string) =>
      `${scheme}://${host}${port}/${p === "" ? keyPath : `${p}/${keyPath}`}`;
    if (bucketUrl.port !== "") {
      const scheme = bucketUrl.protocol.slice(0, -1);
      return places.map(([h, p]) => url(scheme, h, `:${bucketUrl.port}`, p));
    }
    const urls: string[] = [];
    for (const [scheme, port] of [
      ["http", ":80"],
      ["https", ":443"],
    ] as const) {
      for (const [h, p] of places) urls.push(url(scheme, h, port, p), url(scheme, h, "", p));
    }
    return urls;
  }

  return {
    keyPattern,
    /** The bucket the forms point at; `undefined`: bitstore takes the uploads itself. */
    bucket,
    forms,
    authorizer,
    multipart,
    quota,
    verifier: createUploadVerifier({ driver, statePrefix: config.statePrefix }),
    redirectTokens,
    presignDownload,
    keyFromUrl,
    prefixes,
  };
}

export type Services = ReturnType<typeof createServices>;

function bucketUrl(bucket: BucketLocation): string {
  if (bucket.forcePathStyle) return `${bucket.endpoint}/${bucket.name}`;
  const url = new URL(bucket.endpoint);
  return `${url.protocol}//${bucket.name}.${url.host}`;
}

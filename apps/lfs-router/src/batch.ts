import { isWharfError, WharfError } from "@wharf/errors";
import type { ObjectInfo, StorageDriver } from "@wharf/storage-driver";
import { z } from "zod";
import { isOid, type Layout } from "./layout.ts";
import { lfsError, objectErrorCode } from "./lfs-error.ts";
import type { LfsAction, Transfers } from "./transfers.ts";

const batchSchema = z.object({
  operation: z.enum(["upload", "download"]),
  transfers: z.array(z.string()).optional(),
  ref: z.object({ name: z.string().max(1024) }).nullish(),
  hash_algo: z.string().optional(),
  objects: z.array(z.record(z.string(), z.unknown())),
});

export type BatchRequest = z.output<typeof batchSchema>;

/** Parses a batch body: `INVALID_ARGUMENT` (422) for any shape problem, 409 for an unknown hash algorithm. */
export function parseBatchRequest(body: unknown, maxObjects: number): BatchRequest {
  const result = batchSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new WharfError(
      "INVALID_ARGUMENT",
      `invalid batch request${where}: ${issue?.message ?? "bad shape"}`,
    );
  }
  const request = result.data;
  if (request.hash_algo !== undefined && request.hash_algo !== "sha256")
    throw lfsError(
      "ALREADY_EXISTS",
      409,
      `hash algorithm ${request.hash_algo} is not supported, only sha256`,
    );
  if (request.transfers !== undefined && request.transfers.length > 0 && !request.transfers.includes("basic"))
    throw new WharfError("INVALID_ARGUMENT", "no common transfer adapter: this server speaks basic");
  if (request.objects.length > maxObjects)
    throw lfsError("PAYLOAD_TOO_LARGE", 413, `at most ${maxObjects} objects per batch request`);
  return request;
}

export interface BatchObjectResponse {
  readonly oid: unknown;
  readonly size: unknown;
  readonly authenticated?: boolean;
  readonly actions?: Record<string, LfsAction>;
  readonly error?: { readonly code: number; readonly message: string };
}

export interface BatchContext {
  readonly driver: StorageDriver;
  readonly layout: Layout;
  readonly transfers: Transfers;
  readonly maxObjectSize?: number;
  readonly repoQuotaBytes?: number;
  /** Bytes the repository holds now (for the quota). */
  readonly repoUsage: (repo: string) => Promise<number>;
}

/** The per-object answers of one batch; a quota overrun fails the whole request with 507. */
export async function answerBatch(
  ctx: BatchContext,
  repo: string,
  request: BatchRequest,
  baseUrl: string,
): Promise<BatchObjectResponse[]> {
  const seen = new Set<string>();
  const found = await mapLimit(request.objects, 32, async (item) => {
    const invalid = validateObject(item, ctx.maxObjectSize);
    if (invalid) return { item, invalid };
    const oid = item.oid as string;
    const duplicate = seen.has(oid);
    seen.add(oid);
    return { item, info: await headOrUndefined(ctx.driver, ctx.layout.objectKey(repo, oid)), duplicate };
  });

  if (request.operation === "upload" && ctx.repoQuotaBytes !== undefined) {
    const incoming = found.reduce(
      (sum, f) => sum + (f.invalid || f.info || f.duplicate ? 0 : (f.item.size as number)),
      0,
    );
    if (incoming > 0 && (await ctx.repoUsage(repo)) + incoming > ctx.repoQuotaBytes)
      throw lfsError(
        "QUOTA_EXCEEDED",
        507,
        `this push would exceed ${repo}'s quota of ${ctx.repoQuotaBytes} bytes`,
      );
  }

  return mapLimit(found, 16, async (f): Promise<BatchObjectResponse> => {
    const { oid, size } = f.item;
    if (f.invalid) return { oid, size, error: f.invalid };
    const object = { repo, oid: oid as string, size: size as number };
    try {
      if (request.operation === "download") {
        if (!f.info)
          return {
            oid,
            size,
            error: { code: 404, message: `object ${object.oid} does not exist in ${repo}` },
          };
        const sized = { ...object, size: f.info.size };
        return {
          oid,
          size: f.info.size,
          authenticated: true,
          actions: { download: await ctx.transfers.downloadAction(sized, baseUrl) },
        };
      }
      if (f.info) {
        if (f.info.size !== object.size)
          return {
            oid,
            size,
            error: {
              code: 422,
              message: `object ${object.oid} is stored with ${f.info.size} bytes, not ${object.size}`,
            },
          };
        return { oid, size, authenticated: true };
      }
      return {
        oid,
        size,
        authenticated: true,
        actions: { ...(await ctx.transfers.uploadActions(object, baseUrl)) },
      };
    } catch (error) {
      if (!isWharfError(error) || objectErrorCode(error) >= 500) throw error;
      return { oid, size, error: { code: objectErrorCode(error), message: error.message } };
    }
  });
}

function validateObject(item: Record<string, unknown>, maxObjectSize: number | undefined) {
  if (!isOid(item.oid)) return { code: 422, message: "oid must be 64 lower-case hex characters (sha256)" };
  const size = item.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
    return { code: 422, message: "size must be a non-negative integer" };
  if (maxObjectSize !== undefined && size > maxObjectSize)
    return { code: 422, message: `objects may be at most ${maxObjectSize} bytes` };
  return undefined;
}

async function headOrUndefined(driver: StorageDriver, key: string): Promise<ObjectInfo | undefined> {
  try {
    return await driver.head(key);
  } catch (error) {
    if (isWharfError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}

/** `Promise.all(items.map(fn))` with at most `limit` calls in flight, results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

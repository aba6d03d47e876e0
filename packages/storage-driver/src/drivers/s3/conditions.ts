import { CompleteMultipartUploadCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { WharfError } from "@wharf/errors";
import { createClaims } from "./claim.ts";
import type { S3Context } from "./context.ts";
import { translateS3Error } from "./errors.ts";

/** Refuses a conditional write on a store without conditional writes, naming the capability. */
export function refuseConditional(conditions: { ifNoneMatch?: "*"; ifMatch?: string }, key: string): void {
  if (conditions.ifNoneMatch === undefined && conditions.ifMatch === undefined) return;
  throw new WharfError(
    "UNSUPPORTED",
    `this store does not support conditional writes (capability conditionalWrite): cannot write ${key} with ${conditions.ifNoneMatch ? "ifNoneMatch" : "ifMatch"}`,
    { details: { key, capability: "conditionalWrite" } },
  );
}

/** A store's 501 to a conditional request: the missing feature is conditional writes. */
export function unsupportedConditional(error: WharfError, key: string): WharfError {
  if (error.code !== "UNSUPPORTED") return error;
  return new WharfError(
    "UNSUPPORTED",
    `this store does not support conditional writes (capability conditionalWrite; open it with conditionalWrite=false): ${error.message}`,
    { cause: error, details: { key, capability: "conditionalWrite" } },
  );
}

/**
 * Conditional writes on S3: the request's own `If-None-Match`/`If-Match` where the store honours
 * them, made atomic against multipart completions and copies by a claim object per key (see
 * `claim.ts`), and refused with `UNSUPPORTED` where the store has no conditional writes.
 */
export function createConditions(s3: S3Context) {
  const { bucket, capabilities, client, exists, options, prefix } = s3;
  const guard = (key: string, conditions: { ifNoneMatch?: "*"; ifMatch?: string }) => {
    if (!capabilities.conditionalWrite) refuseConditional(conditions, key);
  };
  const holdClaim = createClaims({
    client,
    bucket,
    prefix,
    ttlMs: Math.max(options.claimTtlMs ?? 30_000, 1000),
    waitMs: Math.max(options.claimWaitMs ?? 60_000, 0),
  });

  /** Precondition check with HEAD: atomic only while the key's claim is held. */
  async function precheck(key: string, conditions: { ifNoneMatch?: "*"; ifMatch?: string }): Promise<void> {
    if (conditions.ifNoneMatch === undefined && conditions.ifMatch === undefined) return;
    const current = await exists(key);
    if (conditions.ifNoneMatch === "*" && current) {
      throw new WharfError("PRECONDITION_FAILED", `an object exists at ${key}`, { details: { key } });
    }
    if (conditions.ifMatch !== undefined && current?.etag !== conditions.ifMatch) {
      throw new WharfError("PRECONDITION_FAILED", `the etag does not match at ${key}`, { details: { key } });
    }
  }

  /**
   * The client lib-storage uploads through: for a conditional upload, its single PutObject runs
   * under the key's claim (the request's own condition header is atomic), and its
   * CompleteMultipartUpload under the claim after a HEAD check (Ceph 16 ignores the header there).
   */
  function claimingClient(
    key: string,
    conditions: { ifNoneMatch?: "*"; ifMatch?: string },
    signal?: AbortSignal,
  ) {
    const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
    return new Proxy(client, {
      get(target, property) {
        if (property !== "send") return Reflect.get(target, property);
        return (command: unknown, ...rest: unknown[]) => {
          if (command instanceof PutObjectCommand)
            return holdClaim(key, () => send(command, ...rest), signal);
          if (command instanceof CompleteMultipartUploadCommand) {
            return holdClaim(
              key,
              async () => {
                await precheck(key, conditions);
                return send(command, ...rest);
              },
              signal,
            );
          }
          return send(command, ...rest);
        };
      },
    });
  }

  /** A conditional write on a missing key is a failed precondition, whatever the server says. */
  function conditionalError(error: unknown, key: string, conditional: boolean): WharfError {
    const translated = translateS3Error(error, key);
    if (conditional && translated.code === "UNSUPPORTED") return unsupportedConditional(translated, key);
    if (conditional && translated.code === "NOT_FOUND") {
      return new WharfError("PRECONDITION_FAILED", `no object exists at ${key}`, {
        cause: error,
        details: { key },
      });
    }
    return translated;
  }

  return { guard, holdClaim, precheck, claimingClient, conditionalError };
}

export type Conditions = ReturnType<typeof createConditions>;

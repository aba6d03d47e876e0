import { timingSafeEqual } from "node:crypto";
import { checkScopeName } from "./credentials.ts";
import { parseAmzDate, toEpochMs } from "./dates.ts";
import { s3Error } from "./errors.ts";
import type { PostPolicyCondition } from "./presign-post.ts";
import { getSigningKey } from "./signing-key.ts";
import { FILENAME_PLACEHOLDER } from "./uri.ts";

export interface VerifyPostPolicyInput {
  /** The bucket the form was posted to. */
  readonly bucket: string;
  /** Every form field except the file, as received (names are matched case-insensitively). */
  readonly fields: Readonly<Record<string, string>>;
  /** The file's size in bytes. Leave out to check the range yourself while streaming (`contentLengthRange`). */
  readonly fileSize?: number;
  /** The file part's filename, substituted for `${filename}` in the key. */
  readonly filename?: string;
  readonly now?: Date | number;
  readonly getSecret: (accessKeyId: string) => string | undefined;
  /** When set, the credential scope must name this region. */
  readonly region?: string;
}

export interface VerifiedPost {
  readonly accessKeyId: string;
  readonly bucket: string;
  /** The object key, with `${filename}` substituted. */
  readonly key: string;
  readonly expiresAt: Date;
  /** The policy's conditions, all of which held. */
  readonly conditions: readonly PostPolicyCondition[];
  /** The size bounds to enforce on the body when `fileSize` was not given. */
  readonly contentLengthRange?: { readonly min: number; readonly max: number };
  /** `Content-Type` to store, `Content-MD5` the body must match. */
  readonly contentType?: string;
  readonly contentMd5?: string;
  readonly acl?: string;
  /** `x-amz-meta-*` fields, names lower-cased without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly successActionStatus?: string;
  readonly successActionRedirect?: string;
  readonly sessionToken?: string;
  /** All fields, names lower-cased. */
  readonly fields: Readonly<Record<string, string>>;
}

/** Fields that need no condition in the policy (S3's rule), besides `x-ignore-*`. */
const UNCONDITIONED = new Set(["policy", "x-amz-signature", "file"]);
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
/** Checked before signing: the signature covers exactly these ASCII bytes. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks a browser-form POST upload against its SigV4 policy as S3 does: signature, expiry, every
 * condition, and that every field is covered by a condition.
 *
 * Throws `WharfError` with `details.s3Code` as Ceph RGW answers: `AccessDenied`
 * (`PERMISSION_DENIED`) for a bad signature, an unknown key, an expired policy, a failed condition
 * or a field without one; `EntityTooLarge` (`PAYLOAD_TOO_LARGE`); `EntityTooSmall`,
 * `InvalidArgument` (missing signature fields), `InvalidPolicyDocument` (`INVALID_ARGUMENT`).
 * `details.reason` tells them apart: `malformed`, `unknown-key`, `signature`, `expired`,
 * `condition`, `extra-field`, `size`.
 *
 * @example
 * const post = verifyPostPolicy({ bucket: "uploads", fields, fileSize: file.size, filename: file.name,
 *   getSecret: (id) => secrets.get(id) });
 * // then store the body under post.key, checking post.contentMd5 if set
 */
export function verifyPostPolicy(input: VerifyPostPolicyInput): VerifiedPost {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.fields)) {
    const lower = name.toLowerCase();
    if (!Object.hasOwn(fields, lower)) fields[lower] = value;
  }
  const policy = fields.policy;
  if (policy === undefined) {
    throw s3Error("AccessDenied", "the form has no policy; anonymous uploads are not allowed", {
      reason: "malformed",
    });
  }
  const algorithm = fields["x-amz-algorithm"];
  const credential = fields["x-amz-credential"];
  const amzDate = fields["x-amz-date"];
  const signature = fields["x-amz-signature"];
  if (
    algorithm !== "AWS4-HMAC-SHA256" ||
    credential === undefined ||
    amzDate === undefined ||
    signature === undefined
  ) {
    throw malformed(
      "the form must carry x-amz-algorithm=AWS4-HMAC-SHA256, x-amz-credential, x-amz-date and x-amz-signature",
    );
  }
  const scope = credential.split("/");
  const [accessKeyId, shortDate, region, service, terminator] = scope as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (
    scope.length !== 5 ||
    terminator !== "aws4_request" ||
    service !== "s3" ||
    accessKeyId === "" ||
    !isRegion(region)
  ) {
    throw malformed("x-amz-credential must be <key>/<yyyymmdd>/<region>/s3/aws4_request");
  }
  if (input.region !== undefined && region !== input.region) {
    throw malformed(`the credential scope names region ${region}; expecting ${input.region}`);
  }
  if (parseAmzDate(amzDate) === undefined) throw malformed("x-amz-date must be yyyymmddThhmmssZ");

  if (!BASE64.test(policy)) throw invalidPolicy("the policy is not base64");
  const secret = input.getSecret(accessKeyId);
  if (secret === undefined) throw denied(accessKeyId, "unknown-key", "the access key id does not exist");
  const expected = getSigningKey(secret, shortDate, region, "s3").signAscii(policy);
  if (
    !HEX_SIGNATURE.test(signature) ||
    !timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(signature, "latin1"))
  ) {
    throw denied(accessKeyId, "signature", "the policy signature does not match");
  }

  const document = parsePolicy(policy);
  if (toEpochMs(input.now) > document.expiresAt) {
    throw denied(accessKeyId, "expired", "Invalid according to Policy: Policy expired.");
  }
  const rawKey = fields.key;
  if (rawKey === undefined || rawKey === "") throw malformed("the form has no key field");
  const key = input.filename === undefined ? rawKey : rawKey.replaceAll(FILENAME_PLACEHOLDER, input.filename);
  const values = (name: string): string | undefined => {
    if (name === "bucket") return input.bucket;
    if (name === "key") return key;
    return fields[name];
  };

  const covered = new Set<string>();
  let contentLengthRange: { min: number; max: number } | undefined;
  const fail = (condition: unknown) =>
    denied(
      accessKeyId,
      "condition",
      `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`,
    );
  for (const condition of document.conditions) {
    if (Array.isArray(condition)) {
      const [operator, first, second] = condition as unknown[];
      const op = typeof operator === "string" ? operator.toLowerCase() : "";
      if (op === "content-length-range") {
        const min = toBound(first);
        const max = toBound(second);
        if (min === undefined || max === undefined || min > max)
          throw invalidPolicy("content-length-range needs two bounds");
        contentLengthRange = { min, max };
        continue;
      }
      if (
        (op !== "eq" && op !== "starts-with") ||
        typeof first !== "string" ||
        !first.startsWith("$") ||
        typeof second !== "string"
      ) {
        throw invalidPolicy(`unknown condition ${JSON.stringify(condition)}`);
      }
      const name = first.slice(1).toLowerCase();
      covered.add(name);
      const value = values(name) ?? "";
      const ok = op === "eq" ? value === second : startsWith(name, value, second);
      if (!ok) throw fail(condition);
    } else if (condition !== null && typeof condition === "object") {
      for (const [rawName, expectedValue] of Object.entries(condition)) {
        if (typeof expectedValue !== "string") throw invalidPolicy(`condition ${rawName} must be a string`);
        const name = rawName.toLowerCase();
        covered.add(name);
        if ((values(name) ?? "") !== expectedValue) throw fail(condition);
      }
    } else {
      throw invalidPolicy("each condition must be an object or an array");
    }
  }
  for (const name of Object.keys(fields)) {
    if (UNCONDITIONED.has(name) || name.startsWith("x-ignore-") || covered.has(name)) continue;
    throw denied(accessKeyId, "extra-field", `Invalid according to Policy: Extra input fields: ${name}`);
  }
  if (contentLengthRange !== undefined && input.fileSize !== undefined) {
    if (input.fileSize < contentLengthRange.min) {
      throw s3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", {
        accessKeyId,
        reason: "size",
      });
    }
    if (input.fileSize > contentLengthRange.max) {
      throw s3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", {
        accessKeyId,
        reason: "size",
      });
    }
  }

  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields))
    if (name.startsWith("x-amz-meta-")) metadata[name.slice(11)] = value;
  return {
    accessKeyId,
    bucket: input.bucket,
    key,
    expiresAt: new Date(document.expiresAt),
    conditions: document.conditions as PostPolicyCondition[],
    ...(contentLengthRange !== undefined && { contentLengthRange }),
    ...optional("contentType", fields["content-type"]),
    ...optional("contentMd5", fields["content-md5"]),
    ...optional("acl", fields.acl),
    metadata,
    ...optional("successActionStatus", fields.success_action_status),
    ...optional("successActionRedirect", fields.success_action_redirect),
    ...optional("sessionToken", fields["x-amz-security-token"]),
    fields,
  };
}

function parsePolicy(policy: string): { expiresAt: number; conditions: unknown[] } {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(policy, "base64").toString("utf8"));
  } catch {
    throw invalidPolicy("the policy is not base64-encoded JSON");
  }
  if (document === null || typeof document !== "object")
    throw invalidPolicy("the policy is not a JSON object");
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  const expiresAt = typeof expiration === "string" ? Date.parse(expiration) : Number.NaN;
  if (Number.isNaN(expiresAt)) throw invalidPolicy("the policy has no valid expiration");
  if (!Array.isArray(conditions)) throw invalidPolicy("the policy has no conditions list");
  return { expiresAt, conditions };
}

/** `starts-with` on Content-Type applies to each comma-separated value (S3's rule). */
function startsWith(name: string, value: string, prefix: string): boolean {
  if (name === "content-type" && value.includes(","))
    return value.split(",").every((part) => part.trim().startsWith(prefix));
  return value.startsWith(prefix);
}

function toBound(value: unknown): number | undefined {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === "number" && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}

function isRegion(region: string): boolean {
  try {
    checkScopeName("region", region);
    return true;
  } catch {
    return false;
  }
}

function malformed(message: string) {
  return s3Error("InvalidArgument", message, { reason: "malformed" });
}

function invalidPolicy(message: string) {
  return s3Error("InvalidPolicyDocument", `Invalid Policy: ${message}`, { reason: "malformed" });
}

/** Ceph answers every POST authentication failure, bad signature and unknown key included, with AccessDenied. */
function denied(accessKeyId: string, reason: string, message: string) {
  return s3Error("AccessDenied", message, { accessKeyId, reason });
}

function optional<K extends string>(name: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: string };
}

import { WharfError } from "@wharf/errors";
import { MAX_OBJECT_BYTES } from "@wharf/storage-driver";
import { z } from "zod";
import { isBase64Md5 } from "./key-pattern.ts";

/** One file of an `/authorize` request, as the client declared it. */
export interface DeclaredFile {
  readonly path: string;
  readonly length: number;
  /** Base64 MD5 of the body. */
  readonly md5: string;
  /** Content type the upload must carry; `text/plain` when not given, as in the original. */
  readonly type: string;
  readonly typeGiven: boolean;
  readonly name: string;
}

export interface AuthorizeRequest {
  readonly owner: string;
  /** `metadata.name` (or upstream's `metadata.dataset`); absent from DataHub's own client. */
  readonly dataset?: string;
  /** `metadata.findability == "private"` makes the objects private. */
  readonly private: boolean;
  readonly files: readonly DeclaredFile[];
}

const contentTypePattern =
  /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;\s*[\w!#$&^.+-]+=("[^"\\\r\n]*"|[\w!#$&^.+-]+))*$/;

const fileSchema = z.object({
  length: z
    .number()
    .int()
    .nonnegative()
    .max(MAX_OBJECT_BYTES, "must be at most 5 TiB (5497558138880 bytes), the largest object S3 stores"),
  md5: z.string().refine(isBase64Md5, "must be the base64 encoding of a 16-byte MD5"),
  type: z.string().max(255).regex(contentTypePattern, "must be a media type such as text/csv").optional(),
  name: z.string().min(1).max(1024),
});

const bodySchema = z.object({
  metadata: z.object({
    owner: z.string().min(1).max(255),
    name: z.string().min(1).max(255).optional(),
    dataset: z.string().min(1).max(255).optional(),
    findability: z.string().optional(),
  }),
  filedata: z.record(z.string(), fileSchema),
});

/**
 * Validates an `/authorize` body. Unlike the original (whose missing-field paths crashed with 500),
 * every problem is an `INVALID_ARGUMENT` listing what is wrong.
 */
export function parseAuthorizeRequest(body: unknown, options: { maxFiles: number }): AuthorizeRequest {
  const result = quickParse(body) ?? bodySchema.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
    throw new WharfError("INVALID_ARGUMENT", `invalid request: ${problems.join("; ")}`, {
      details: { problems },
    });
  }
  const { metadata, filedata } = result.data;
  const entries = Object.entries(filedata);
  if (entries.length > options.maxFiles) {
    throw new WharfError("INVALID_ARGUMENT", `at most ${options.maxFiles} files per request`);
  }
  const dataset = metadata.name ?? metadata.dataset;
  return {
    owner: metadata.owner,
    ...(dataset === undefined ? {} : { dataset }),
    private: metadata.findability === "private",
    files: entries.map(([path, file]) => ({
      path,
      length: file.length,
      md5: file.md5,
      type: file.type ?? "text/plain",
      typeGiven: file.type !== undefined,
      name: file.name,
    })),
  };
}

/**
 * The common case without zod's per-file cost: a body whose every file entry is plainly valid is
 * taken as it is (the checks below accept nothing the schema refuses); anything else goes through
 * the schema, which words the problems.
 */
function quickParse(body: unknown): { success: true; data: z.output<typeof bodySchema> } | undefined {
  if (!isPlainObject(body) || !isPlainObject(body.filedata)) return undefined;
  const metadata = bodySchema.shape.metadata.safeParse(body.metadata);
  if (!metadata.success) return undefined;
  for (const file of Object.values(body.filedata)) if (!isPlainlyValidFile(file)) return undefined;
  return {
    success: true,
    data: { metadata: metadata.data, filedata: body.filedata as z.output<typeof bodySchema>["filedata"] },
  };
}

function isPlainlyValidFile(file: unknown): boolean {
  if (!isPlainObject(file)) return false;
  const { length, md5, type, name } = file;
  return (
    Number.isSafeInteger(length) &&
    (length as number) >= 0 &&
    (length as number) <= MAX_OBJECT_BYTES &&
    typeof md5 === "string" &&
    isBase64Md5(md5) &&
    (type === undefined ||
      (typeof type === "string" && type.length <= 255 && contentTypePattern.test(type))) &&
    typeof name === "string" &&
    name.length >= 1 &&
    name.length <= 1024
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

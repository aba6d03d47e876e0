import { createHash } from "node:crypto";
import { posix } from "node:path";
import { WharfError } from "@wharf/errors";

/** What a key pattern can refer to. */
export interface KeyVariables {
  readonly owner: string;
  /** `metadata.name` of the request (the dataset); DataHub's own client sends none. */
  readonly dataset?: string;
  /** The relative path the file was listed under in `filedata`. */
  readonly path: string;
  /** The file entry's `name`. */
  readonly filename: string;
  /** Base64 MD5 as declared. */
  readonly md5: string;
}

/** The variables every file of a request shares. */
export type RequestVariables = Pick<KeyVariables, "owner" | "dataset">;
/** The variables of one file. */
export type FileVariables = Omit<KeyVariables, "owner" | "dataset">;

export const keyPatternVariables = [
  "owner",
  "name",
  "dataset",
  "path",
  "filename",
  "basename",
  "dirname",
  "extension",
  "md5",
  "md5_hex",
] as const;

type PatternVariable = (typeof keyPatternVariables)[number];
type Piece = { literal: string } | { variable: PatternVariable };

export interface KeyPattern {
  readonly source: string;
  /** Renders the object key, refusing anything that would leave the caller's prefix. */
  render(vars: KeyVariables): string;
  /**
   * {@link render} for the files of one request: the owner and dataset are checked (on the first
   * call) and the owner's prefix worked out once.
   */
  renderer(request: RequestVariables): (file: FileVariables) => string;
  /** The fixed prefix every key of this owner starts with (`bob/` for `{owner}/…`), or `""`. */
  ownerPrefix(owner: string): string;
  /** True when the pattern refers to the dataset (`{name}` or `{dataset}`). */
  readonly needsDataset: boolean;
}

const variablePattern = /\{([^{}]*)\}/g;

/**
 * Compiles a `STORAGE_PATH_PATTERN` such as `{owner}/{name}/{path}`. Unknown variables are refused
 * here, at start-up, rather than on the first request as the original did.
 */
export function compileKeyPattern(source: string): KeyPattern {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of source.matchAll(variablePattern)) {
    if (match.index > last) pieces.push({ literal: source.slice(last, match.index) });
    const name = match[1] as PatternVariable;
    if (!keyPatternVariables.includes(name)) {
      throw new WharfError("INVALID_ARGUMENT", `unknown variable {${match[1]}} in the key pattern`);
    }
    pieces.push({ variable: name });
    last = match.index + match[0].length;
  }
  if (last < source.length) pieces.push({ literal: source.slice(last) });
  if (/[{}]/.test(pieces.map((p) => ("literal" in p ? p.literal : "")).join(""))) {
    throw new WharfError("INVALID_ARGUMENT", "unbalanced braces in the key pattern");
  }
  if (!pieces.some((p) => "variable" in p && p.variable === "owner")) {
    throw new WharfError("INVALID_ARGUMENT", "the key pattern must contain {owner}");
  }

  const needsDataset = pieces.some(
    (p) => "variable" in p && (p.variable === "name" || p.variable === "dataset"),
  );
  function checkRequest(request: RequestVariables): void {
    checkSegment("owner", request.owner);
    if (!needsDataset) return;
    if (request.dataset === undefined) {
      throw new WharfError(
        "INVALID_ARGUMENT",
        `metadata.name is required: this bitstore's key pattern ${source} uses the dataset name`,
        { details: { problems: ["metadata.name: required by STORAGE_PATH_PATTERN"] } },
      );
    }
    checkSegment("dataset", request.dataset);
  }
  function renderer(request: RequestVariables): (file: FileVariables) => string {
    let prefix: string | undefined;
    return (file) => {
      if (prefix === undefined) {
        checkRequest(request);
        prefix = ownerPrefixOf(pieces, request.owner);
      }
      checkRelativePath(file.path);
      let key = "";
      for (const p of pieces) key += "literal" in p ? p.literal : variableValue(p.variable, request, file);
      if (!isCleanKey(key) || !key.startsWith(prefix)) {
        throw new WharfError("INVALID_ARGUMENT", `the file path ${JSON.stringify(file.path)} is not allowed`);
      }
      return key;
    };
  }
  return {
    source,
    needsDataset,
    render: (vars) => renderer(vars)(vars),
    renderer,
    ownerPrefix: (owner) => ownerPrefixOf(pieces, owner),
  };
}

/** One variable's value, worked out only for the variables the pattern uses. */
function variableValue(variable: PatternVariable, request: RequestVariables, vars: FileVariables): string {
  switch (variable) {
    case "owner":
      return request.owner;
    case "name":
    case "dataset":
      return request.dataset ?? "";
    case "path":
      return vars.path;
    case "filename":
      return vars.filename;
    case "basename":
      return posix.basename(vars.path);
    case "dirname": {
      const dir = posix.dirname(vars.path);
      return dir === "." ? "" : dir;
    }
    case "extension": {
      const base = posix.basename(vars.path);
      const dot = base.lastIndexOf(".");
      return dot > 0 ? base.slice(dot + 1) : "";
    }
    case "md5":
      return vars.md5;
    case "md5_hex":
      return md5Hex(vars.md5);
  }
}

/** Literal text and `{owner}` up to the first other variable, cut back to the last `/`. */
function ownerPrefixOf(pieces: readonly Piece[], owner: string): string {
  let text = "";
  for (const piece of pieces) {
    if ("literal" in piece) text += piece.literal;
    else if (piece.variable === "owner") text += owner;
    else break;
  }
  return text.slice(0, text.lastIndexOf("/") + 1);
}

function checkSegment(what: string, value: string): void {
  if (value === "" || value === "." || value === ".." || /[/\\\0-\x1f\x7f]/.test(value)) {
    throw new WharfError("INVALID_ARGUMENT", `${what} ${JSON.stringify(value)} is not allowed`);
  }
}

function checkRelativePath(path: string): void {
  if (!isCleanKey(path)) {
    throw new WharfError("INVALID_ARGUMENT", `the file path ${JSON.stringify(path)} is not allowed`);
  }
}

/** No empty, `.` or `..` segment, no leading or trailing `/`, no backslash or control character. */
function isCleanKey(key: string): boolean {
  return key.length <= 1024 && !uncleanKey.test(key) && Buffer.byteLength(key) <= 1024;
}

/** An empty, `.` or `..` segment (which includes an empty key), a backslash or a control character. */
const uncleanKey = /(?:^|\/)\.{0,2}(?:\/|$)|[\\\0-\x1f\x7f]/;

/** Hex of a base64 MD5 (`""` when it is not one). */
export function md5Hex(base64: string): string {
  const bytes = Buffer.from(base64, "base64");
  return bytes.length === 16 ? bytes.toString("hex") : "";
}

/** True for the base64 encoding of 16 bytes. */
export function isBase64Md5(value: string): boolean {
  return base64Md5.test(value);
}

const base64Md5 = /^[A-Za-z0-9+/]{22}==$/;

export function md5Base64(data: Uint8Array | string): string {
  return createHash("md5").update(data).digest("base64");
}

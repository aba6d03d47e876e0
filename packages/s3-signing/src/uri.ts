/**
 * URI encoding exactly as SigV4 (and the AWS SDK's `escapeUri`) defines it: every byte except
 * `A-Z a-z 0-9 - _ . ~` is percent-encoded with upper-case hex.
 */
export function escapeUri(value: string): string {
  const encoded = encodeURIComponent(value);
  return RESERVED.test(encoded) ? encoded.replace(RESERVED_GLOBAL, hexEncode) : encoded;
}

/** Encodes an object key for a URL path: each `/`-separated segment with {@link escapeUri}. */
export function escapeKeyPath(key: string): string {
  if (key.indexOf("/") === -1) return escapeUri(key);
  return key.split("/").map(escapeUri).join("/");
}

/**
 * Decodes a percent-encoded path or query component. Returns `undefined` for malformed input
 * (a stray `%`, or bytes that are not UTF-8). `plusIsSpace` applies the form-decoding rule S3
 * servers use for query strings.
 */
export function decodeComponent(value: string, plusIsSpace: boolean): string | undefined {
  const input = plusIsSpace && value.indexOf("+") !== -1 ? value.replaceAll("+", " ") : value;
  if (input.indexOf("%") === -1) return input;
  try {
    return decodeURIComponent(input);
  } catch {
    return undefined;
  }
}

/** Canonical header value: line breaks to spaces, runs of blanks collapsed, ends trimmed. */
export function canonicalHeaderValue(value: string): string {
  return value
    .replace(/[\r\n]/g, " ")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
}

const RESERVED = /[!'()*]/;
const RESERVED_GLOBAL = /[!'()*]/g;

function hexEncode(character: string): string {
  return `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
}

/** The placeholder S3 replaces with the uploaded file's name in a POST form's `key`. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal placeholder, not a template.
export const FILENAME_PLACEHOLDER = "${filename}";

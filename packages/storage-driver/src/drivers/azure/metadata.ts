/**
 * Azure metadata names must be C# identifiers and values HTTP header text. Names that are lower-case
 * letters and digits travel as they are; any other name travels as `x_<hex of its UTF-8>`. Values
 * that are not plain printable ASCII travel as RFC 2047 encoded words (as S3 user metadata does).
 * The recorded sha256 lives under `wharf_sha256`, a name no user name maps to.
 */
const SHA256_NAME = "wharf_sha256";
const plainName = /^[a-z][a-z0-9]*$/;
const encodedName = /^x_([0-9a-f]+)$/;
const plainValue = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)$/;
const encodedWord = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/;

export function encodeMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
  sha256?: string,
): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(metadata ?? {})) {
    const name = rawName.toLowerCase();
    const wireName = plainName.test(name) ? name : `x_${Buffer.from(name, "utf8").toString("hex")}`;
    encoded[wireName] =
      plainValue.test(value) && !encodedWord.test(value)
        ? value
        : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
  }
  if (sha256 !== undefined) encoded[SHA256_NAME] = sha256.toLowerCase();
  return encoded;
}

export function decodeMetadata(raw: Readonly<Record<string, string>> | undefined): {
  metadata: Record<string, string>;
  sha256?: string;
} {
  const metadata: Record<string, string> = {};
  let sha256: string | undefined;
  for (const [rawName, value] of Object.entries(raw ?? {})) {
    const name = rawName.toLowerCase();
    if (name === SHA256_NAME) {
      sha256 = value;
      continue;
    }
    const hex = encodedName.exec(name)?.[1];
    const word = encodedWord.exec(value)?.[1];
    metadata[hex === undefined ? name : Buffer.from(hex, "hex").toString("utf8")] =
      word === undefined ? value : Buffer.from(word, "base64").toString("utf8");
  }
  return sha256 === undefined ? { metadata } : { metadata, sha256 };
}

import { createHmac, hash } from "node:crypto";

/**
 * A derived SigV4 signing key, kept as the HMAC-SHA256 inner and outer pads so that signing a
 * string costs two one-shot SHA-256 calls, no key set-up and no Buffer allocation.
 */
export interface SigningKey {
  /** Hex HMAC-SHA256 of an ASCII string under this key. */
  signAscii(data: string): string;
  /** Hex HMAC-SHA256 of any string (UTF-8) under this key. */
  sign(data: string): string;
}

const BLOCK = 64;
const MAX_CACHED_KEYS = 256;
const cache = new Map<string, SigningKey>();

/**
 * The signing key for (secret, yyyymmdd, region, service), derived once and cached. The cache
 * holds at most 256 keys and drops the oldest first.
 */
export function getSigningKey(
  secret: string,
  shortDate: string,
  region: string,
  service: string,
): SigningKey {
  const id = `${shortDate}\n${region}\n${service}\n${secret}`;
  let key = cache.get(id);
  if (key === undefined) {
    key = createSigningKey(deriveKey(secret, shortDate, region, service));
    if (cache.size >= MAX_CACHED_KEYS) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(id, key);
  }
  return key;
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  const kDate = createHmac("sha256", `AWS4${secret}`).update(shortDate).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update(service).digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

/**
 * Wraps a key of at most 64 bytes (one SHA-256 block) in precomputed HMAC pads: an HMAC-SHA256
 * for about a tenth of `createHmac`'s cost, which sets a key up on every call.
 *
 * @example
 * const mac = createSigningKey(randomBytes(32));
 * mac.sign("message"); // hex HMAC-SHA256
 */
export function createSigningKey(key: Uint8Array): SigningKey {
  if (key.length > BLOCK) throw new RangeError("signing key longer than one SHA-256 block");
  let inner = Buffer.allocUnsafe(BLOCK + 512);
  const outer = Buffer.allocUnsafe(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const byte = i < key.length ? (key[i] as number) : 0;
    inner[i] = byte ^ 0x36;
    outer[i] = byte ^ 0x5c;
  }
  // The inner digest comes back as a "binary" (latin1) string written into the outer pad: asking
  // for a Buffer allocates one per signature, which cost as much as both hashes together.
  const finish = (length: number): string => {
    outer.write(hash("sha256", inner.subarray(0, length), "binary"), BLOCK, "binary");
    return hash("sha256", outer, "hex");
  };
  const ensure = (bytes: number): void => {
    if (inner.length < BLOCK + bytes) {
      const grown = Buffer.allocUnsafe(BLOCK + bytes * 2);
      inner.copy(grown, 0, 0, BLOCK);
      inner = grown;
    }
  };
  return {
    signAscii(data) {
      ensure(data.length);
      return finish(BLOCK + inner.write(data, BLOCK, "latin1"));
    },
    sign(data) {
      ensure(Buffer.byteLength(data));
      return finish(BLOCK + inner.write(data, BLOCK, "utf8"));
    },
  };
}

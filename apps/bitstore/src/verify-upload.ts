import { createHmac, timingSafeEqual } from "node:crypto";
import { isWharfError, WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import { md5Hex } from "./key-pattern.ts";

export type Verdict = "ok" | "missing" | "quarantined";

/**
 * Closes the gap of stores that keep a POST whose body does not match its `Content-MD5` (Ceph 16):
 * an object whose ETag (the MD5 of a single-part upload) or size differs from what was authorised
 * is moved under `<state prefix>quarantine/` and removed from its key.
 */
export function createUploadVerifier(options: { driver: StorageDriver; statePrefix: string }) {
  const { driver } = options;
  return {
    async verify(file: { key: string; md5: string; length: number }): Promise<Verdict> {
      let info: Awaited<ReturnType<StorageDriver["head"]>>;
      try {
        info = await driver.head(file.key);
      } catch (error) {
        if (isWharfError(error, "NOT_FOUND")) return "missing";
        throw error;
      }
      // The etag is the body's MD5 only for a single-part upload on a store with md5Etags; otherwise
      // the MD5 recorded at the upload (checked on the way in where bitstore takes the uploads).
      const byEtag = driver.capabilities.md5Etags && !info.etag.includes("-");
      const good =
        info.size === file.length &&
        (byEtag ? info.etag === md5Hex(file.md5) : info.metadata["content-md5"] === file.md5);
      if (good) return "ok";
      await driver.copy(file.key, `${options.statePrefix}quarantine/${file.key}`);
      await driver.delete(file.key);
      return "quarantined";
    },
  };
}

export type UploadVerifier = ReturnType<typeof createUploadVerifier>;

/**
 * Signed, expiring tokens for the `success_action_redirect` URL: they carry the key, MD5 and length
 * so the redirect target needs no session and cannot be pointed at other objects.
 */
export function createRedirectTokens(secret: string, now: () => Date = () => new Date()) {
  const key = createHmac("sha256", "bitstore-verify-redirect").update(secret).digest();
  const mac = (payload: string) => createHmac("sha256", key).update(payload).digest("base64url");
  return {
    issue(file: { key: string; md5: string; length: number }, expiresIn: number): string {
      const exp = Math.floor(now().getTime() / 1000) + expiresIn;
      const payload = Buffer.from(JSON.stringify([file.key, file.md5, file.length, exp])).toString(
        "base64url",
      );
      return `${payload}.${mac(payload)}`;
    },
    open(token: string): { key: string; md5: string; length: number } {
      const [payload = "", signature = ""] = token.split(".");
      const expected = Buffer.from(mac(payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        throw new WharfError("PERMISSION_DENIED", "invalid verification token");
      }
      const [k, md5, length, exp] = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as [
        string,
        string,
        number,
        number,
      ];
      if (exp * 1000 < now().getTime() - 3600_000) {
        throw new WharfError("PERMISSION_DENIED", "the verification token has expired");
      }
      return { key: k, md5, length };
    },
  };
}

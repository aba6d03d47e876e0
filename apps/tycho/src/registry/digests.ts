import { createHash, type Hash } from "node:crypto";

/**
 * How an S3 ETag can be recomputed from the bytes: the md5 of the whole body (a single PUT), or
 * the md5 of the parts' md5s followed by `-<parts>` (a multipart upload of `partSize` parts).
 */
export type EtagLayout =
  | { readonly kind: "md5" }
  | { readonly kind: "multipart"; readonly partSize: number; readonly parts: number };

/** Digests of one body, fed in order: its sha256 and, when asked, its S3 ETag. */
export interface ContentDigests {
  update(data: Buffer): void;
  sha256(): string;
  /** The recomputed ETag (unquoted), when a layout was given. */
  etag(): string | undefined;
}

export function createDigests(layout?: EtagLayout): ContentDigests {
  const sha = createHash("sha256");
  const etag = layout?.kind === "md5" ? wholeMd5() : layout ? multipartMd5(layout.partSize) : undefined;
  return {
    update(data) {
      sha.update(data);
      etag?.update(data);
    },
    sha256: () => sha.digest("hex"),
    etag: () => etag?.digest(),
  };
}

function wholeMd5(): { update(data: Buffer): void; digest(): string } {
  const md5 = createHash("md5");
  return { update: (data) => md5.update(data), digest: () => md5.digest("hex") };
}

function multipartMd5(partSize: number): { update(data: Buffer): void; digest(): string } {
  const digests: Buffer[] = [];
  let current: Hash = createHash("md5");
  let inPart = 0;
  return {
    update(data) {
      for (let offset = 0; offset < data.length; ) {
        const take = Math.min(partSize - inPart, data.length - offset);
        current.update(data.subarray(offset, offset + take));
        inPart += take;
        offset += take;
        if (inPart === partSize) {
          digests.push(current.digest());
          current = createHash("md5");
          inPart = 0;
        }
      }
    },
    digest() {
      if (inPart > 0 || digests.length === 0) digests.push(current.digest());
      return `${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${digests.length}`;
    },
  };
}

import { createHash, randomBytes } from "node:crypto";
import type { StorageDriver } from "@wharf/storage-driver";
import { reservedSegment } from "./layout.ts";

/**
 * Start-up probe for direct mode: does the store reject a presigned PUT whose body does not match
 * the `x-amz-checksum-sha256` bound into it? Some S3 implementations (Ceph 16) ignore the header;
 * then uploads are staged and hashed by the router at verify time instead.
 */
export async function probeSha256Enforcement(
  driver: StorageDriver,
  keyPrefix: string,
  fetchImpl: typeof fetch = fetch,
): Promise<boolean> {
  const key = `${keyPrefix}${reservedSegment}/probe/${randomBytes(8).toString("hex")}`;
  const announced = Buffer.from("wharf lfs-router checksum probe: announced body");
  const sent = Buffer.from("wharf lfs-router checksum probe: different body!");
  const presigned = await driver.presign(key, {
    method: "PUT",
    expiresIn: 60,
    contentLength: sent.length,
    sha256: createHash("sha256").update(announced).digest("hex"),
  });
  try {
    const response = await fetchImpl(presigned.url, {
      method: "PUT",
      headers: presigned.headers,
      body: sent,
    });
    await response.arrayBuffer();
    return !response.ok;
  } finally {
    await driver.delete(key).catch(() => undefined);
  }
}

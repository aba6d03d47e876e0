import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

/** Read size of {@link sha256File}: large reads into one buffer cost far less CPU than a 64 KiB stream. */
const readSize = 4 * 1024 * 1024;

/** Hex sha256 of a file, read in 4 MiB blocks into one reused buffer; stops on `signal`. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(readSize);
  const handle = await open(path, "r");
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, readSize, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

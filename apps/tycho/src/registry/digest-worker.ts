/** Runs {@link createDigests} off the main thread for {@link createDigester}; see digester.ts. */
import { parentPort, workerData } from "node:worker_threads";
import { createDigests, type EtagLayout } from "./digests.ts";

export interface DigestWorkerData {
  readonly layout: EtagLayout | undefined;
  readonly arena: SharedArrayBuffer;
}

export type DigestRequest =
  /** A block of the shared arena, handed back once hashed. */
  | { readonly offset: number; readonly length: number }
  /** Bytes outside the arena, copied. */
  | { readonly copy: Uint8Array }
  | { readonly finish: true };

export type DigestReply =
  | { readonly offset: number; readonly length: number }
  | { readonly sha256: string; readonly etag: string | undefined };

const port = parentPort;
if (port) {
  const { layout, arena } = workerData as DigestWorkerData;
  const digests = createDigests(layout);
  port.on("message", (request: DigestRequest) => {
    if ("finish" in request) {
      port.postMessage({ sha256: digests.sha256(), etag: digests.etag() } satisfies DigestReply);
    } else if ("copy" in request) {
      digests.update(Buffer.from(request.copy.buffer, request.copy.byteOffset, request.copy.byteLength));
    } else {
      digests.update(Buffer.from(arena, request.offset, request.length));
      port.postMessage(request satisfies DigestReply);
    }
  });
}

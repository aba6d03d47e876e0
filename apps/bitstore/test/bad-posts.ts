import type { StorageDriver } from "@wharf/storage-driver";
import { readAll } from "@wharf/storage-driver";
import { expect } from "vitest";
import { formFor, post, type RunningBitstore } from "./harness.ts";
import { bytes } from "./helpers.ts";

export interface Store extends AsyncDisposable {
  readonly bitstore: RunningBitstore;
  readonly driver: StorageDriver;
  /**
   * Whether the store refuses a POST whose body does not match its `Content-MD5` (bitstore's
   * local-disk mode does; Ceph RGW does not, and bitstore then never reports the object as existing).
   */
  readonly checksMd5: boolean;
}

type Kind = "good" | "over" | "under" | "md5";
const badKinds: Kind[] = ["over", "under", "md5"];

/** The body a POST sends for a form made for `data`: the bytes, or a violation of the policy. */
function bodyFor(kind: Kind, data: Buffer): Buffer {
  if (kind === "over") return Buffer.concat([data, Buffer.from("!")]);
  if (kind === "under") return data.subarray(0, data.length - 1);
  if (kind === "md5") return Buffer.from(data.map((byte) => byte ^ 0xff));
  return data;
}

/**
 * POSTs `count` browser-style forms into `store`, `concurrency` at a time: every fifth a good one,
 * the others one byte over `content-length-range`, one under, or another body than the MD5 says.
 * Each bad one is answered 400 and stores nothing (see `checksMd5`); each good one lands whole.
 */
export async function postMixed(store: Store, run: string, count: number, concurrency = 5): Promise<void> {
  const kinds = Array.from({ length: count }, (_, i): Kind => (i % 5 === 4 ? "good" : badKinds[i % 3]!));
  let next = 0;
  const worker = async () => {
    while (next < kinds.length) {
      const i = next++;
      const kind = kinds[i]!;
      const data = bytes(2048 + i, i + 1);
      const path = `${run}/${i}-${kind}.bin`;
      const form = await formFor(store.bitstore, path, data, "application/octet-stream");
      const res = await post(form, bodyFor(kind, data));
      await res.arrayBuffer();
      const key = `bob/ds/${path}`;
      if (kind === "md5" && !store.checksMd5) {
        expect(res.status, `${kind} #${i}`).toBe(204);
        expect((await formFor(store.bitstore, path, data, "application/octet-stream")).exists).toBe(false);
      } else if (kind === "good") {
        expect(res.status, `${kind} #${i}`).toBe(204);
        expect(await readAll((await store.driver.get(key)).body)).toEqual(data);
      } else {
        expect(res.status, `${kind} #${i}`).toBe(400);
        await expect(store.driver.head(key), `${kind} #${i}`).rejects.toMatchObject({ code: "NOT_FOUND" });
      }
    }
  };
  // Every worker stops at the first failure, so none posts into a store being disposed.
  const results = await Promise.allSettled(
    Array.from({ length: concurrency }, () =>
      worker().catch((error: unknown) => {
        next = kinds.length;
        throw error;
      }),
    ),
  );
  for (const result of results) if (result.status === "rejected") throw result.reason;
  expect((await fetch(`${store.bitstore.url}/healthz`)).status).toBe(200);
}

import type { StorageDriver } from "@wharf/storage-driver";
import type { TransferSettings } from "./transfer.ts";

/** What every registry operation needs: the store and the few facts that are not the store's. */
export interface RegistryContext {
  readonly storage: StorageDriver;
  readonly now: () => Date;
  /** Recorded as the pusher / yanker, e.g. `alice@build-7`. */
  readonly user: string;
  readonly transfer: TransferSettings;
  /** A push claim older than this is presumed abandoned. */
  readonly claimStaleAfterMs: number;
}

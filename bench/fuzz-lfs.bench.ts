/**
 * `pnpm bench fuzz-lfs [runs] [seed]`: 10,000 hostile LFS requests (batch, verify, lock bodies,
 * paths, queries, Accept and auth headers) to the router over loopback, each answered with a 4xx
 * JSON error or a success, never a 5xx, no body accepted past its cap, a good batch every 50, and
 * memory bounded. Reference: a known-good download batch replayed in the same run.
 */
import { benchFuzz } from "@wharf/test-kit";
import { lfsSurface } from "../apps/lfs-router/test/fuzz-surface.ts";

await using surface = await lfsSurface();
await benchFuzz(surface);

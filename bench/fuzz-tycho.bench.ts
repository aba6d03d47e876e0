/**
 * `pnpm bench fuzz-tycho [runs] [seed]`: 10,000 runs of tycho's CLI entry (`run` from cli.ts, in
 * this process) with a hostile config file and command line each, on a local registry in a temp
 * folder: every run exits 0 or with a message and a usage, config or store exit code (never 1,
 * an unexpected error, never a stack trace), a good pull every 50, and memory bounded. Reference:
 * a known-good pull replayed in the same run.
 */
import { benchFuzz } from "@wharf/test-kit";
import { tychoSurface } from "../apps/tycho/test/fuzz-surface.ts";

await using surface = await tychoSurface();
await benchFuzz(surface);

/**
 * `pnpm --filter @wharf/storage-driver conformance <storage URL>`: runs the conformance suite
 * against that URL (test/url.conformance.ts), exiting with vitest's status.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";

const url = process.argv[2];
if (!url || process.argv.length > 3) {
  process.stderr.write("usage: pnpm --filter @wharf/storage-driver conformance <storage URL>\n");
  process.exit(2);
}
const root = join(dirname(new URL(import.meta.url).pathname), "..");
const run = spawnSync("vitest", ["run", "--config", "vitest.conformance.config.ts"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, WHARF_CONFORMANCE_URL: url },
});
process.exit(run.status ?? 1);

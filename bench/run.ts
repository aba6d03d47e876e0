/**
 * `pnpm bench <name>` runs bench/<name>.ts. Each benchmark ends with one line
 * `<name>: <figure> <unit> (<ratio>x <reference>)`, the reference measured in the same run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((file) => file.endsWith(".bench.ts"))
  .map((file) => file.slice(0, -".bench.ts".length))
  .sort();
if (!name || !existsSync(join(here, `${name}.bench.ts`))) {
  process.stderr.write(
    `usage: pnpm bench <name> [args]\navailable: ${available.join(", ") || "(none yet)"}\n`,
  );
  process.exit(name ? 1 : 0);
}
const deps = spawnSync("bash", [join(here, "..", "infra", "apt-deps.sh"), "bench"], { stdio: "inherit" });
if (deps.status !== 0) process.exit(deps.status ?? 1);
const result = spawnSync(process.execPath, ["--expose-gc", join(here, `${name}.bench.ts`), ...rest], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);

/**
 * The whole test suite, as `./wharf test` and CI run it: type checks, lint, then every vitest
 * project (unit, conformance, integration against real services). Ends with one plain line
 * `N passed, N failed` and exits non-zero when anything failed. Extra arguments go to vitest.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

const total: Summary = { passed: 0, failed: 0, skipped: 0, failures: [] };
const vitestArgs = process.argv.slice(2);
const only = vitestArgs.length > 0;

function step(name: string, command: string, args: string[]): void {
  process.stdout.write(`\n── ${name}: ${command} ${args.join(" ")}\n`);
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status === 0) total.passed++;
  else {
    total.failed++;
    total.failures.push(name);
  }
}

if (!only) {
  step("typecheck", "pnpm", ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]);
  step("typecheck infra", "pnpm", ["exec", "tsc", "-p", "infra"]);
  step("lint", "pnpm", ["exec", "biome", "ci", "."]);
}

const dir = mkdtempSync(join(tmpdir(), "wharf-summary-"));
const summaryFile = join(dir, "summary.json");
process.stdout.write("\n── vitest\n");
const vitest = spawnSync("pnpm", ["exec", "vitest", "run", ...vitestArgs], {
  stdio: "inherit",
  env: { ...process.env, WHARF_SUMMARY_FILE: summaryFile },
});
try {
  const summary = JSON.parse(readFileSync(summaryFile, "utf8")) as Summary;
  total.passed += summary.passed;
  total.failed += summary.failed;
  total.skipped += summary.skipped;
  total.failures.push(...summary.failures);
} catch {
  total.failed++;
  total.failures.push(`vitest exited with ${vitest.status ?? vitest.signal} before reporting`);
}
rmSync(dir, { recursive: true, force: true });
if (vitest.status !== 0 && total.failed === 0) {
  total.failed++;
  total.failures.push(`vitest exited with ${vitest.status ?? vitest.signal}`);
}

if (total.failures.length > 0)
  process.stdout.write(`\nFailed:\n${total.failures.map((f) => `  ✗ ${f}`).join("\n")}\n`);
process.stdout.write(
  `\n${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""}\n`,
);
process.exit(total.failed > 0 ? 1 : 0);

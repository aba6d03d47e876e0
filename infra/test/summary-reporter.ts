import { writeFileSync } from "node:fs";
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from "vitest/node";

/**
 * Counts what vitest ran and writes it where `infra/test/run.ts` reads it (`WHARF_SUMMARY_FILE`),
 * or prints the plain `N passed, N failed` line itself when run on its own. A module that failed
 * to load or whose hooks failed counts as one failure; skipped tests are never counted as passed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    _reason: TestRunEndReason,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") {
          failed++;
          failedHere++;
          failures.push(`${module.project.name} › ${test.fullName}`);
        } else skipped++;
      }
      if (failedHere === 0 && module.state() === "failed") {
        failed++;
        failures.push(`${module.project.name} › ${module.moduleId} (did not load or a hook failed)`);
      }
    }
    failed += unhandledErrors.length;
    for (const error of unhandledErrors) failures.push(`unhandled: ${error.message ?? String(error)}`);
    const file = process.env.WHARF_SUMMARY_FILE;
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped, failures }));
    else
      process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  }
}

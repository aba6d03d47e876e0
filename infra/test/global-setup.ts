import type { TestProject } from "vitest/node";

/** Placeholder until the real-services harness lands: starts nothing yet. */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  return async () => {};
}

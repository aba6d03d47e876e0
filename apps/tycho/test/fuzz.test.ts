import { fuzzSurface } from "@wharf/test-kit";
import { describe, it } from "vitest";
import { tychoSurface } from "./fuzz-surface.ts";

describe("fuzzing the CLI's config file and command line", () => {
  it("answers 1000 hostile configs and command lines with a message and a usage, config or store exit code, never an unexpected error, and still pulls a package", async () => {
    await using surface = await tychoSurface();
    await fuzzSurface(surface, { runs: 1000, seed: 20261207 });
  });
});

import { fuzzSurface } from "@wharf/test-kit";
import { describe, it } from "vitest";
import { registrySurface } from "../test/fuzz-surface.ts";

describe("fuzzing the HAL API and the notifications endpoint over loopback", () => {
  it("answers 1000 hostile paths, query strings, headers and event bodies with a 4xx JSON error or a success, never a 5xx, and still serves a good tag", async () => {
    await using surface = await registrySurface();
    await fuzzSurface(surface, { runs: 1000, seed: 20261207 });
  });
});

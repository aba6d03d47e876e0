import { fuzzSurface } from "@wharf/test-kit";
import { describe, it } from "vitest";
import { lfsSurface } from "../test/fuzz-surface.ts";

describe("fuzzing the LFS API over loopback", () => {
  it("answers 1000 hostile batch, verify and lock requests with a 4xx JSON error or a success, never a 5xx, accepts no body past its cap, and still serves a good batch", async () => {
    await using surface = await lfsSurface();
    await fuzzSurface(surface, { runs: 1000, seed: 20240601 });
  });
});

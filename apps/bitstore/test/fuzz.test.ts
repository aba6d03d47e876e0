import { fuzzSurface } from "@wharf/test-kit";
import { describe, it } from "vitest";
import { bitstoreSurface } from "./fuzz-surface.ts";

describe("fuzzing /authorize and local-disk mode's form POST over loopback", () => {
  it("answers 1000 hostile /authorize bodies and form POSTs with a 4xx JSON or S3 XML error or a success, never a 5xx, stores nothing but the declared body, and still takes a good upload", async () => {
    // Bad bodies into a fresh store are the next test's; here they go to a store that took a write.
    await using surface = await bitstoreSurface({ only: (input) => !input.fresh || input.body === "exact" });
    await fuzzSurface(surface, { runs: 1000, seed: 20261207 });
  });

  // KNOWN CRASH, left to the "crash" fix (issue 20 §1, bitstore BodyCheck): a form POST whose body
  // is one byte short, one byte over or not its MD5, as the first write of a fresh driver, emits
  // an 'error' on BodyCheck that nobody hears (the driver is still creating its folders) and the
  // process dies. `pnpm bench fuzz-bitstore 10000 1`: 92 failures, all of this kind (without these
  // inputs, 0 in 10,000); the simplest input: every field as signed, body "short", fresh store.
  // Enable once that fix is merged.
  it.skip("survives 200 bad form bodies, each the first write of a fresh store (awaits the BodyCheck fix)", async () => {
    await using surface = await bitstoreSurface({ only: (input) => input.fresh && input.body !== "exact" });
    await fuzzSurface(surface, { runs: 200, seed: 3 });
  });
});

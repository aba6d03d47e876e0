import { fuzzSurface } from "@wharf/test-kit";
import { describe, it } from "vitest";
import type { Script } from "./fuzz-session.ts";
import { ftpSurface } from "./fuzz-surface.ts";

/**
 * Cuts while a transfer runs (after its 150, mid-data, after the data), and FIN/RST of a data
 * connection at any step (a later transfer writes to that socket).
 */
const cutsTransfer = (script: Script) =>
  script.steps.some(
    (step) =>
      step.kind === "transfer" &&
      step.cut &&
      (step.cut.at !== "after-pasv" || step.cut.how === "fin-data" || step.cut.how === "rst-data"),
  );

describe("fuzzing the FTP gateway over TCP (fs driver)", () => {
  it("answers 1000 sessions of hostile command lines, arguments, raw bytes and transfers (and control connections cut before a transfer starts) with well-formed replies, closes every session, and still serves a good RETR", async () => {
    await using surface = await ftpSurface({ only: (script) => !cutsTransfer(script) });
    await fuzzSurface(surface, { runs: 1000, seed: 20261207 });
  });

  // KNOWN CRASH, left to the "crash" fix (issue 20 §1, ftps-gateway transfer.ts sendFilled and
  // storage-driver fs-read.ts): a RETR/LIST/NLST/MLSD cut short after its 150 or mid-data by ABOR,
  // QUIT, a FIN of the control connection, or an RST of the data or control connection, ends in an
  // 'error' nobody listens to (AbortError from fs-read, ECONNRESET/EPIPE on the data socket); 5 of
  // the 6 ways crash on every try; so does a transfer on a data connection the client reset before
  // it started (EPSV, connect, RST, then MLSD: an unheard write ECONNRESET, and MLSD never gets
  // its final reply). Simplest input: login, EPSV, `RETR big.bin`, then
  // `{ at: "after-150", how: "rst-control" }`. `pnpm bench fuzz-ftp 10000 1`: 397 failures, all of
  // this kind (without these scripts, 0 in 10,000). Enable this once that fix is merged.
  it.skip("survives 300 sessions whose transfers are cut short at every step (awaits the transfer stream-error fix)", async () => {
    await using surface = await ftpSurface({ only: cutsTransfer });
    await fuzzSurface(surface, { runs: 300, seed: 1 });
  });
});

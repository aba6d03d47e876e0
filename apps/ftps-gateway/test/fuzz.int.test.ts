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

  // Regression (issue 20 §1, reproduced by this fuzzer): a RETR/LIST/NLST/MLSD cut short after its
  // 150 or mid-data by ABOR, QUIT, a FIN of the control connection, or an RST of the data or control
  // connection, ended in an 'error' nobody listened to (AbortError from fs-read, ECONNRESET/EPIPE on
  // the data socket) and killed the gateway; so did a transfer on a data connection the client had
  // reset before it started (EPSV, connect, RST, then MLSD, which also never got its final reply).
  it("survives 300 sessions whose transfers are cut short at every step", async () => {
    await using surface = await ftpSurface({ only: cutsTransfer });
    await fuzzSurface(surface, { runs: 300, seed: 1 });
  });
});

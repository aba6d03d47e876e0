import { fuzzSurface } from "@wharf/test-kit";
import { describe, it } from "vitest";
import { sftpSurface } from "./sftp-fuzz-surface.ts";

// Regressions this fuzzer found (issue 26): a malformed packet's 'error' on the SFTP channel had no
// listener, so ssh2 ended the whole SSH connection; a declared length of 2 GiB or more, which ssh2
// reads as negative, did the same once more bytes came; a READDIR with an unknown handle threw before
// its first await and ended the connection; a string running past its packet reached the path
// resolver as undefined (a TypeError answered as "Local error in processing."). The bench's 10,000
// found one more: every SFTP channel a connection had opened stayed in memory until it closed.
describe("fuzzing the gateway's SFTP subsystem over SSH (fs driver)", () => {
  it("answers 1000 channels of hand-built packets (bad lengths up to 4 GiB, unknown types, huge handles and offsets, hostile paths) with well-formed replies or a closed channel, never drops the SSH connection, and still serves a fresh login's STAT and read", async () => {
    await using surface = await sftpSurface();
    await fuzzSurface(surface, { runs: 1000, seed: 20261207 });
    // about 30 s on the 2-core VM; 60 s when it is heavily loaded
  }, 120_000);
});

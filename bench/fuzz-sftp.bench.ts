/**
 * `pnpm bench fuzz-sftp [runs] [seed]`: 10,000 SFTP channels to the gateway (in this process, fs
 * driver in a temp folder, real TCP and SSH with ssh2's client), each carrying hand-built SFTP v3
 * packets: well-formed requests of every type with hostile paths, handles (unknown, 257 bytes,
 * 256 KiB) and offsets (up to 2^64 - 1), and the same packets broken (declared lengths of 0, off by
 * a few, over 256 KiB, 2 GiB and 4 GiB; truncated bodies; unknown and response types; string
 * lengths past the packet; raw bytes), after INIT, without it or with two. Every answer is
 * well-formed SFTP, well-formed requests are all answered, a broken one gets a status or the channel
 * closed (never the SSH connection), a fresh login's STAT and read works every 50, and memory is
 * bounded (a declared 4 GiB allocates nothing). Reference: that good login + STAT + read.
 */
import { benchFuzz } from "@wharf/test-kit";
import { sftpSurface } from "../apps/ftps-gateway/test/sftp-fuzz-surface.ts";

await using surface = await sftpSurface();
await benchFuzz(surface);

/**
 * `pnpm bench fuzz-ftp [runs] [seed]`: 10,000 control connections to the FTP gateway (in this
 * process, fs driver in a temp folder, plain FTP over real TCP), each a script of hostile command
 * lines and arguments, raw bytes, and transfers (RETR, STOR, APPE, LIST, NLST, MLSD, after EPSV or
 * PASV, with REST) cut short by ABOR, QUIT, FIN or RST on the data or control connection at each
 * step. Every reply is a well-formed 3-digit reply, the gateway closes every session, nothing is
 * left unhandled, a good RETR works every 50, and memory is bounded. Reference: that good RETR
 * (connect, login, EPSV, RETR, QUIT) replayed in the same run.
 */
import { benchFuzz } from "@wharf/test-kit";
import { ftpSurface } from "../apps/ftps-gateway/test/fuzz-surface.ts";

await using surface = await ftpSurface();
await benchFuzz(surface);

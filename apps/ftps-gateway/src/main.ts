#!/usr/bin/env node
import { enableCompileCache } from "node:module";
import { setFlagsFromString } from "node:v8";

// Every read of a data connection is a new 64 KiB buffer (16,000 per GiB), and those waiting for
// the disk or the store survive two scavenges and are promoted. With V8's default old-space limit,
// close to the few MiB the gateway keeps live, a mark-compact then ran every few MiB moved: 2.7 s of
// CPU per GiB stored on fs, more than the kernel's share. An old-space limit of 4x the live heap
// leaves them to the cheap scavenges of the 1 MiB young generation (`--max-semi-space-size=1` in the
// start script): 0.4-0.7 s per GiB, and STOR about twice as fast. Set before the modules load.
setFlagsFromString("--heap-growing-percent=300");
// Node strips the TypeScript types of every module at each start, with a WebAssembly compiler that
// stays in memory: about 30 MiB of the resident set. V8's on-disk code cache keeps the stripped and
// compiled modules, so every start after the first skips the compiler (idle RSS 114 -> 84 MiB). In
// $NODE_COMPILE_CACHE or the OS temp folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();
await import("./serve.ts");

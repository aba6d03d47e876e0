#!/usr/bin/env node
// The gateway's entry: plain JavaScript, so V8's compile cache is on before the first TypeScript
// file loads. With src/main.ts as the entry, Node loads its type stripper (a WebAssembly compiler
// that stays resident, ~15 MiB) for main.ts itself on every start; this way every .ts file comes
// stripped from the cache after the first start (idle RSS on fs 114 -> 84 MiB; see src/main.ts).
import { enableCompileCache } from "node:module";

enableCompileCache();
await import("../src/main.ts");

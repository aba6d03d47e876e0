#!/usr/bin/env node
// The CLI's entry: plain JavaScript, so the compile cache is on before the first TypeScript file
// loads. With src/main.ts as the entry, Node loaded its type stripper (amaro, 0.1 s of CPU) for
// main.ts itself on every run; this way every .ts file comes stripped from the cache.
import { enableCompileCache } from "node:module";

enableCompileCache();
await import("../src/main.ts");

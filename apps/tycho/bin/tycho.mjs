#!/usr/bin/env node
// The CLI's entry: plain JavaScript, so the compile cache is on before the first TypeScript file
// loads. With src/main.ts as the entry, Node loaded its type stripper (amaro, 0.1 s of CPU) for
// main.ts itself on every run; this way every .ts file comes stripped from the cache.
// The version check comes first, in syntax any Node parses: Node 20 has no enableCompileCache and
// Node < 22.18 does not strip types, and both used to end in a SyntaxError.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(`tycho needs Node.js 24 or newer; this is Node.js ${process.versions.node}\n`);
  process.exit(1);
}
const { enableCompileCache } = await import("node:module");
enableCompileCache();
await import("../src/main.ts");

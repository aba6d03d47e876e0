#!/usr/bin/env node
// The gateway's entry: plain JavaScript, so V8's compile cache is on before the first TypeScript
// file loads. With src/main.ts as the entry, Node loads its type stripper (a WebAssembly compiler
// that stays resident, ~15 MiB) for main.ts itself on every start; this way every .ts file comes
// stripped from the cache after the first start (idle RSS on fs 114 -> 84 MiB; see src/main.ts).
// The version check comes first, in syntax any Node parses: Node 20 has no enableCompileCache and
// Node < 22.18 does not strip types, and both used to end in a SyntaxError.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(`ftps-gateway needs Node.js 24 or newer; this is Node.js ${process.versions.node}\n`);
  process.exit(1);
}
const { enableCompileCache } = await import("node:module");
enableCompileCache();
await import("../src/main.ts");

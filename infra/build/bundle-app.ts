/**
 * Builds one app into a self-contained artifact that runs on plain Node 24, without pnpm, turbo,
 * TypeScript or the rest of the monorepo (the development loop keeps running the sources):
 *
 *   apps/<app>/dist/package.json   name, version, engines, "main" (and "bin" for a CLI)
 *   apps/<app>/dist/main.mjs       plain JavaScript: checks the Node version, turns source maps on,
 *                                  then imports the bundle (so an older Node prints one line)
 *   apps/<app>/dist/lib/main.js    the esbuild bundle (one ESM file; modules imported lazily, such
 *                                  as the S3 driver, still initialise only when first imported)
 *   apps/<app>/dist/lib/main.js.map its source map (without the sources' text)
 *
 * Run from an app's folder (`pnpm --filter @wharf/<app> build`); prints the artifact's folder.
 */
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { entryShim, minimumNodeMajor } from "./entry-shim.ts";

interface AppPackage {
  name: string;
  version: string;
  description?: string;
  bin?: Record<string, string>;
}

const appDir = resolve(process.argv[2] ?? process.cwd());
const pkg = JSON.parse(await readFile(join(appDir, "package.json"), "utf8")) as AppPackage;
const appName = pkg.name.replace(/^@wharf\//, "");
const dist = join(appDir, "dist");

await rm(dist, { recursive: true, force: true });
const result = await build({
  absWorkingDir: appDir,
  entryPoints: { main: "src/main.ts" },
  outdir: join(dist, "lib"),
  bundle: true,
  format: "esm",
  platform: "node",
  target: `node${minimumNodeMajor}`,
  // CommonJS dependencies (pino, busboy, ldapts' deps) call require() for Node's built-ins, which
  // an ES module lacks: give every chunk one.
  banner: {
    js: 'import { createRequire as __wharfCreateRequire } from "node:module"; const require = __wharfCreateRequire(import.meta.url);',
  },
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
});

const bin = pkg.bin ? Object.fromEntries(Object.keys(pkg.bin).map((name) => [name, "main.mjs"])) : undefined;
const manifest = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description ?? `Wharf ${appName}, bundled for Node ${minimumNodeMajor}`,
  type: "module",
  main: "main.mjs",
  ...(bin ? { bin } : {}),
  engines: { node: `>=${minimumNodeMajor}` },
  files: ["main.mjs", "lib"],
};
await rewriteSources(join(dist, "lib", "main.js.map"));
await writeFile(join(dist, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
await writeFile(join(dist, "main.mjs"), entryShim(appName, "./lib/main.js"));
await chmod(join(dist, "main.mjs"), 0o755);

/**
 * esbuild names each source relative to the map (`../../../../packages/errors/src/index.ts`), which
 * in a copied artifact resolves to nowhere (`/packages/errors/…` in an image). Name them from the
 * repository instead, the way bundlers' `webpack://` URLs do, so a stack frame reads
 * `wharf:///apps/ftps-gateway/src/tls.ts:16:25` or `wharf:///node_modules/hono/dist/…` wherever the
 * artifact runs.
 */
async function rewriteSources(mapPath: string): Promise<void> {
  const repoRoot = resolve(import.meta.dirname, "../..");
  const map = JSON.parse(await readFile(mapPath, "utf8")) as { sources: string[] };
  map.sources = map.sources.map((source) => {
    const fromRoot = relative(repoRoot, resolve(dirname(mapPath), source));
    return `wharf:///${fromRoot.replace(/^node_modules\/\.pnpm\/[^/]+\/node_modules\//, "node_modules/")}`;
  });
  await writeFile(mapPath, JSON.stringify(map));
}

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
process.stderr.write(
  `${pkg.name}: bundled ${Object.keys(result.metafile.inputs).length} modules into ${(bytes / 1024 / 1024).toFixed(1)} MiB (${relative(process.cwd(), dist) || "."})\n`,
);
process.stdout.write(`${dist}\n`);

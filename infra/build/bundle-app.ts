/**
 * Builds one app into a self-contained artifact that runs on plain Node 24, without pnpm, turbo,
 * TypeScript or the rest of the monorepo (the development loop keeps running the sources):
 *
 *   apps/<app>/dist/package.json   name, version, engines, "main" (and "bin" for a CLI)
 *   apps/<app>/dist/main.mjs       plain JavaScript: checks the Node version, turns source maps on,
 *                                  then imports the bundle (so an older Node prints one line)
 *   apps/<app>/dist/lib/main.js    the esbuild bundle (one ESM file; modules imported lazily, such
 *                                  as the S3 driver, still initialise only when first imported)
 *   apps/<app>/dist/ui-dist/       browser assets the app serves, when it has them (ui/build.ts)
 *   apps/<app>/dist/lib/main.js.map its source map: Wharf's own sources (not their text), named
 *                                  wharf:///apps/<app>/src/… (see trimSourceMap)
 *
 * Run from an app's folder (`pnpm --filter @wharf/<app> build`); prints the artifact's folder.
 */
import { existsSync } from "node:fs";
import { chmod, cp, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { decode, encode, type SourceMapSegment } from "@jridgewell/sourcemap-codec";
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
    js: [
      'import { createRequire as __wharfCreateRequire } from "node:module";',
      'import { fileURLToPath as __wharfFileURLToPath } from "node:url";',
      "const require = __wharfCreateRequire(import.meta.url);",
      "const __wharfFilename = __wharfFileURLToPath(import.meta.url);",
      'const __wharfDirname = __wharfFileURLToPath(new URL(".", import.meta.url));',
    ].join(" "),
  },
  // CommonJS code that reads __dirname (ssh2's bundled WebAssembly loader) gets the bundle's folder;
  // a module that declares its own keeps it (define replaces only the free identifier).
  define: { __dirname: "__wharfDirname", __filename: "__wharfFilename" },
  // Optional native add-ons (ssh2's cpu-features and sshcrypto, unbuilt here): their require() is
  // kept and fails at run time inside the library's own try, which then uses its JavaScript path.
  external: ["cpu-features", "*.node"],
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
await trimSourceMap(join(dist, "lib", "main.js.map"));
await writeFile(join(dist, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
await writeFile(join(dist, "main.mjs"), entryShim(appName, "./lib/main.js"));
// Browser assets an app serves itself (registry-usage's dashboard), built before the bundle.
if (existsSync(join(appDir, "ui-dist")))
  await cp(join(appDir, "ui-dist"), join(dist, "ui-dist"), { recursive: true });
await chmod(join(dist, "main.mjs"), 0o755);

/**
 * Keeps the source map to Wharf's own sources, named from the repository. esbuild names each source
 * relative to the map (`../../../../packages/errors/src/index.ts`), which in a copied artifact or an
 * image resolves to nowhere; the names become `wharf:///apps/ftps-gateway/src/tls.ts`, the way
 * bundlers' `webpack://` URLs do. The mappings of dependencies are dropped (their frames name
 * `lib/main.js`): Node parses the whole map at the first stack trace, and with them the map of an
 * app was about 2 MB and its parsed form cost ~58 MiB of heap (registry-usage: RSS 89 -> 148 MiB).
 */
async function trimSourceMap(mapPath: string): Promise<void> {
  const repoRoot = resolve(import.meta.dirname, "../..");
  const map = JSON.parse(await readFile(mapPath, "utf8")) as {
    sources: string[];
    names: string[];
    mappings: string;
  };
  const fromRoot = map.sources.map((source) => relative(repoRoot, resolve(dirname(mapPath), source)));
  const own = fromRoot.map((path) => !path.startsWith("node_modules/") && !path.startsWith(".."));
  const kept = own.flatMap((isOwn, index) => (isOwn ? [index] : []));
  const newIndex = new Map(kept.map((index, position) => [index, position]));
  const lines = decode(map.mappings).map((segments) => {
    const out: SourceMapSegment[] = [];
    for (const segment of segments) {
      // A dependency's code stays unmapped: one 1-field segment per run of it, so that no own
      // source claims it and the map stays small.
      if (segment.length === 1 || !own[segment[1]]) {
        if (out.length === 0 || out[out.length - 1]!.length !== 1) out.push([segment[0]]);
        continue;
      }
      const moved = [...segment] as typeof segment;
      moved[1] = newIndex.get(segment[1]) as number;
      out.push(moved);
    }
    return out;
  });
  const trimmed = {
    ...map,
    sources: kept.map((index) => `wharf:///${fromRoot[index]}`),
    mappings: encode(lines),
  };
  await writeFile(mapPath, JSON.stringify(trimmed));
}

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
process.stderr.write(
  `${pkg.name}: bundled ${Object.keys(result.metafile.inputs).length} modules into ${(bytes / 1024 / 1024).toFixed(1)} MiB (${relative(process.cwd(), dist) || "."})\n`,
);
process.stdout.write(`${dist}\n`);

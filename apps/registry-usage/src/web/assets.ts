import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { WharfError } from "@wharf/errors";
import type { Context } from "hono";

/**
 * `ui-dist/`: where `pnpm build` (ui/build.ts) writes the bundles, beside the sources; in the
 * production artifact (`dist/lib/main.js`) it is `dist/ui-dist`, copied there by the build.
 */
export const distDir =
  [
    fileURLToPath(new URL("../ui-dist/", import.meta.url)),
    fileURLToPath(new URL("../../ui-dist/", import.meta.url)),
  ].find((dir) => existsSync(dir)) ?? fileURLToPath(new URL("../../ui-dist/", import.meta.url));

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
}

const types: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/**
 * The bundled browser assets (`ui-dist/`), read once and gzipped once. When the folder is missing
 * `build` (the esbuild step, a devDependency) is tried once: dev servers build on first request.
 */
export function createAssets(dir: string, build?: () => Promise<void>) {
  let loaded: Promise<Map<string, Asset>> | undefined;

  async function load(): Promise<Map<string, Asset>> {
    let names = await readdir(dir).catch(() => undefined);
    if (!names && build) {
      await build();
      names = await readdir(dir);
    }
    if (!names) throw new Error(`${dir} is missing: run pnpm --filter @wharf/registry-usage build`);
    const assets = new Map<string, Asset>();
    for (const name of names) {
      const type = types[extname(name)];
      if (!type) continue;
      const body = await readFile(join(dir, name));
      assets.set(name, { type, body, gzip: gzipSync(body, { level: 9 }) });
    }
    return assets;
  }

  return async (c: Context): Promise<Response> => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw new WharfError("UNAVAILABLE", "the dashboard assets are not built", { cause: error });
    });
    const asset = (await loaded).get(c.req.path.split("/").at(-1) ?? "");
    if (!asset) throw new WharfError("NOT_FOUND", `The resource "${c.req.path}" does not exist`);
    const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
    return c.body(new Uint8Array(gzip ? asset.gzip : asset.body), 200, {
      "Content-Type": asset.type,
      "Cache-Control": "public, max-age=300",
      Vary: "Accept-Encoding",
      ...(gzip ? { "Content-Encoding": "gzip" } : {}),
    });
  };
}

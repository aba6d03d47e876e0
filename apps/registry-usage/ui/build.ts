import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { distDir } from "../src/web/assets.ts";

/**
 * Bundles the dashboard's scripts (uPlot included) and styles with esbuild into `ui-dist/`:
 * no CDN, the app serves them itself. Run by `pnpm build`, by the browser tests, and by the app on
 * the first asset request when `ui-dist/` is missing (dev, where esbuild is installed).
 */
export async function buildUi(outdir = distDir): Promise<void> {
  const entry = (name: string) => fileURLToPath(new URL(name, import.meta.url));
  await build({
    entryPoints: [entry("overview.ts"), entry("repository.ts"), entry("app.css")],
    outdir,
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildUi();

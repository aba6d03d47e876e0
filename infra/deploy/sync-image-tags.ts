/**
 * Pins each app's Kustomize base to the image of the app's current version: after `changeset version`
 * bumps apps/<app>/package.json, `newTag` in deploy/k8s/<app>/kustomization.yaml follows. Part of
 * `pnpm version-packages`. Prints what it changed.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(process.argv[2] ?? join(import.meta.dirname, "../.."));
for (const app of readdirSync(join(root, "deploy/k8s"))) {
  const kustomization = join(root, "deploy/k8s", app, "kustomization.yaml");
  const manifest = join(root, "apps", app, "package.json");
  if (!existsSync(kustomization) || !existsSync(manifest)) continue;
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
  const before = readFileSync(kustomization, "utf8");
  const after = before.replace(/^(\s+newTag:\s*)\S+$/m, `$1${version}`);
  if (after !== before) {
    writeFileSync(kustomization, after);
    process.stdout.write(`deploy/k8s/${app}: image tag ${version}\n`);
  }
}

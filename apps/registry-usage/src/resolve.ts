import type { RepoUsage, TagUsage, Usage } from "./usage.ts";

export type Resolved =
  | { readonly kind: "repository"; readonly repo: RepoUsage }
  | { readonly kind: "tags"; readonly repo: RepoUsage }
  | { readonly kind: "tag"; readonly repo: RepoUsage; readonly tag: TagUsage };

/**
 * Maps the raw path after `/repositories/` to a resource. Repository names contain `/`, plain or
 * as `%2F`; a literal `tags` segment ends the name (as the original's routing prefers), and a name
 * sent with `%2F` is never split. Invisible repositories do not exist for the caller.
 */
export function resolveResource(
  rawPath: string,
  usage: Usage,
  visible: (name: string) => boolean,
): Resolved | undefined {
  const segments = rawPath.replace(/\/+$/, "").split("/");
  let decoded: string[];
  try {
    decoded = segments.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  if (decoded.some((s) => s === "")) return undefined;
  const repo = (parts: string[]) => {
    const name = parts.join("/");
    const found = usage.byName.get(name);
    return found && visible(name) ? found : undefined;
  };
  const n = segments.length;
  if (n >= 2 && segments[n - 1] === "tags") {
    const found = repo(decoded.slice(0, n - 1));
    if (found) return { kind: "tags", repo: found };
  }
  if (n >= 3 && segments[n - 2] === "tags") {
    const found = repo(decoded.slice(0, n - 2));
    if (found) {
      const tag = found.tags?.find((t) => t.name === decoded[n - 1]);
      return tag ? { kind: "tag", repo: found, tag } : undefined;
    }
  }
  const found = repo(decoded);
  return found ? { kind: "repository", repo: found } : undefined;
}

import { WharfError } from "@wharf/errors";

const maxSegmentBytes = 255;
const maxPathBytes = 1024;

/**
 * Resolves an FTP path argument against the working directory into a normalised absolute virtual
 * path (`/` or `/a/b`). `..` never climbs above `/`, so no argument can leave the user's home.
 * Rejects control characters and backslashes with `INVALID_ARGUMENT` (FTP 553).
 */
export function resolvePath(cwd: string, argument: string): string {
  if (/[\u0000-\u001f\u007f\\]/.test(argument))
    throw new WharfError("INVALID_ARGUMENT", "file name not allowed");
  const raw = argument.startsWith("/") ? argument : `${cwd}/${argument}`;
  const segments: string[] = [];
  for (const segment of raw.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else {
      if (Buffer.byteLength(segment) > maxSegmentBytes)
        throw new WharfError("INVALID_ARGUMENT", "file name too long");
      segments.push(segment);
    }
  }
  const path = `/${segments.join("/")}`;
  if (Buffer.byteLength(path) > maxPathBytes) throw new WharfError("INVALID_ARGUMENT", "path too long");
  return path;
}

/** `/a/b` → `a`; `/a` → `/`. */
export function parentOf(path: string): string {
  const index = path.lastIndexOf("/");
  return index <= 0 ? "/" : path.slice(0, index);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The storage key of a virtual path under `home` (`""` = store root). The root itself has no key. */
export function keyOf(home: string, path: string): string {
  if (path === "/") throw new WharfError("INVALID_ARGUMENT", "the root directory is not a file");
  return home ? `${home}/${path.slice(1)}` : path.slice(1);
}

/** The listing prefix of a virtual directory: `""`, `home/`, `home/a/b/`. */
export function dirPrefix(home: string, path: string): string {
  if (path === "/") return home ? `${home}/` : "";
  return `${keyOf(home, path)}/`;
}

/** RFC 959 PWD quoting: `"` inside the path is doubled. */
export function quotePath(path: string): string {
  return `"${path.replaceAll('"', '""')}"`;
}

/** True when a name holds a wildcard a client may send to NLST or LIST (`*`, `?`). */
export function isGlob(name: string): boolean {
  return /[*?]/.test(name);
}

/** A matcher for one path segment's glob: `*` any run of characters, `?` one; nothing else special. */
export function globMatcher(glob: string): (name: string) => boolean {
  const source = [...glob]
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  const pattern = new RegExp(`^${source}$`, "su");
  return (name) => pattern.test(name);
}

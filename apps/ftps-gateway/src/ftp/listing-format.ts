import { type Entry, listLine, months, pad } from "../core/listing.ts";
import { isGlob } from "../core/paths.ts";

/**
 * aioftps3's LIST line, for scripts written against it (`FTP_LIST_FORMAT=aioftps3`): files with its
 * type letter `p` (its mode constant was S_IFIFO), and the date always as `%b %e %H:%M` in UTC.
 */
export function aioftps3Line(entry: Entry): string {
  const mode = entry.type === "dir" ? "drwxrwxrwx" : "prw-rw-rw-";
  const m = entry.modified;
  const day = String(m.getUTCDate()).padStart(2, " ");
  return `${mode} 1 none none ${entry.size} ${months[m.getUTCMonth()]} ${day} ${pad(m.getUTCHours())}:${pad(m.getUTCMinutes())} ${entry.name}`;
}

export type ListFormat = "ls" | "aioftps3";

/** The LIST line in the configured format. */
export function formatListLine(format: ListFormat, entry: Entry, now: Date): string {
  return format === "aioftps3" ? aioftps3Line(entry) : listLine(entry, now);
}

/** RFC 3659 time-val: `YYYYMMDDHHMMSS` in UTC. */
export function timeVal(date: Date): string {
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

/** RFC 3659 facts for MLSD/MLST: `type=file;size=3;modify=…;perm=…; name`. */
export function mlsxLine(entry: Entry, name: string, writable: boolean, type?: "cdir"): string {
  const facts =
    entry.type === "dir"
      ? `type=${type ?? "dir"};modify=${timeVal(entry.modified)};perm=${writable ? "flcdmpe" : "el"};`
      : `type=file;size=${entry.size};modify=${timeVal(entry.modified)};perm=${writable ? "adfrw" : "r"};`;
  return `${facts} ${name}`;
}

/** Splits `LIST -la dir` into the path and whether options were given (options are ignored). */
export function listArgument(argument: string): string {
  return argument.replace(/^(\s*-[a-zA-Z]+)+(\s+|$)/, "");
}

/** NLST of a glob answers the paths as the client wrote them (`dir/*.csv` → `dir/a.csv`), else bare names. */
export function nlstFolder(argument: string): string {
  const slash = argument.lastIndexOf("/");
  return slash >= 0 && isGlob(argument.slice(slash + 1)) ? argument.slice(0, slash + 1) : "";
}

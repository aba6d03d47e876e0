// The listing model both front-ends show: FTP's LIST, MLSD and STAT, SFTP's READDIR and STAT.

/** One entry of a directory: a file (object) or a folder (marker, or a prefix with keys below it). */
export interface Entry {
  readonly name: string;
  readonly type: "file" | "dir";
  readonly size: number;
  readonly modified: Date;
}

export const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const sixMonthsMs = 182 * 24 * 3600 * 1000;

/**
 * One `ls -l` line (FTP's LIST, SFTP's longname): `-rw-rw-rw- 1 none none 1234 Nov 22 03:10 name` (files are regular files, not
 * aioftps3's FIFOs). Entries older than six months, or in the future, show the year instead of the time.
 */
export function listLine(entry: Entry, now: Date): string {
  const mode = entry.type === "dir" ? "drwxrwxrwx" : "-rw-rw-rw-";
  const m = entry.modified;
  const day = String(m.getUTCDate()).padStart(2, " ");
  const age = now.getTime() - m.getTime();
  const tail =
    age >= 0 && age < sixMonthsMs
      ? `${pad(m.getUTCHours())}:${pad(m.getUTCMinutes())}`
      : ` ${m.getUTCFullYear()}`;
  return `${mode} 1 none none ${entry.size} ${months[m.getUTCMonth()]} ${day} ${tail} ${entry.name}`;
}

export function pad(n: number): string {
  return String(n).padStart(2, "0");
}

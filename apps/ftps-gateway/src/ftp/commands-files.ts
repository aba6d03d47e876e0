import { userError } from "../core/errors.ts";
import { parentOf, quotePath, resolvePath } from "../core/paths.ts";
import { mlsxLine, timeVal } from "./listing-format.ts";
import type { Session } from "./session-types.ts";

function requireWrite(s: Session): void {
  if (s.principal?.access !== "rw")
    throw userError("PERMISSION_DENIED", "Permission denied (read-only account).");
}

export function pwd(s: Session): void {
  s.reply(257, `${quotePath(s.cwd)} is the current directory.`);
}

export async function cwd(s: Session, argument: string): Promise<void> {
  const path = resolvePath(s.cwd, argument);
  await s.vfs!.requireDir(path, "No such directory.");
  s.cwd = path;
  s.reply(250, "Directory successfully changed.");
}

export async function cdup(s: Session): Promise<void> {
  s.cwd = parentOf(s.cwd);
  s.reply(250, "Directory successfully changed.");
}

export async function mkd(s: Session, argument: string): Promise<void> {
  requireWrite(s);
  const path = resolvePath(s.cwd, argument);
  await s.vfs!.mkdir(path);
  s.reply(257, `${quotePath(path)} created.`);
}

export async function rmd(s: Session, argument: string): Promise<void> {
  requireWrite(s);
  await s.vfs!.rmdir(resolvePath(s.cwd, argument));
  s.reply(250, "Directory removed.");
}

export async function dele(s: Session, argument: string): Promise<void> {
  requireWrite(s);
  await s.vfs!.remove(resolvePath(s.cwd, argument));
  s.reply(250, "File deleted.");
}

export async function rnfr(s: Session, argument: string): Promise<void> {
  requireWrite(s);
  const path = resolvePath(s.cwd, argument);
  if (!(await s.vfs!.stat(path))) throw userError("NOT_FOUND", "No such file or directory.");
  s.renameFrom = path;
  s.reply(350, "Ready for RNTO.");
}

export async function rnto(s: Session, argument: string): Promise<void> {
  const from = s.renameFrom;
  s.renameFrom = undefined;
  if (!from) return s.reply(503, "RNFR required first.");
  requireWrite(s);
  await s.vfs!.rename(from, resolvePath(s.cwd, argument));
  s.reply(250, "Rename successful.");
}

export async function size(s: Session, argument: string): Promise<void> {
  const entry = await s.vfs!.stat(resolvePath(s.cwd, argument));
  if (!entry) throw userError("NOT_FOUND", "No such file.");
  if (entry.type !== "file") throw userError("NOT_FOUND", "Not a regular file.");
  s.reply(213, String(entry.size));
}

export async function mdtm(s: Session, argument: string): Promise<void> {
  const entry = await s.vfs!.stat(resolvePath(s.cwd, argument));
  if (!entry) throw userError("NOT_FOUND", "No such file.");
  if (entry.type !== "file") throw userError("NOT_FOUND", "Not a regular file.");
  s.reply(213, timeVal(entry.modified));
}

export async function mlst(s: Session, argument: string): Promise<void> {
  const path = resolvePath(s.cwd, argument);
  const entry = await s.vfs!.stat(path);
  if (!entry) throw userError("NOT_FOUND", "No such file or directory.");
  const line = mlsxLine(entry, path, s.principal?.access === "rw");
  s.reply(250, [`Listing ${path}`, line, "End."]);
}

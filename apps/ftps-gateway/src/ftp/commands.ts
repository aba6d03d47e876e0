import type { Lockout } from "@wharf/auth-jwt";
import { resolvePath } from "../core/paths.ts";
import * as data from "./commands-data.ts";
import * as files from "./commands-files.ts";
import { formatListLine } from "./listing-format.ts";
import type { Session } from "./session-types.ts";

export interface Command {
  readonly handler: (s: Session, argument: string) => Promise<void> | void;
  /** Refused with 530 before a successful PASS. */
  readonly needsLogin: boolean;
  readonly argument: "none" | "optional" | "required";
  /** Handled at once even while a transfer runs (ABOR, STAT, QUIT, NOOP). */
  readonly urgent?: boolean;
}

const features = [
  "Features:",
  "AUTH TLS",
  "PBSZ",
  "PROT",
  "UTF8",
  "EPRT",
  "EPSV",
  "PASV",
  "SIZE",
  "MDTM",
  "REST STREAM",
  "MLST type*;size*;modify*;perm*;",
  "MLSD",
  "TVFS",
  "End",
];

function tlsGate(s: Session): boolean {
  if (!s.ctx.config.tlsRequired || s.secure) return true;
  s.reply(530, "TLS required: send AUTH TLS first, or use the implicit FTPS port.");
  return false;
}

function auth(s: Session, argument: string): Promise<void> | void {
  const mechanism = argument.trim().toUpperCase();
  if (s.secure) return s.reply(503, "Already using TLS.");
  if (!["TLS", "TLS-C", "SSL", "TLS-P"].includes(mechanism)) return s.reply(504, "AUTH type not supported.");
  s.reply(234, "TLS negotiation will follow.");
  s.pendingUser = undefined;
  s.principal = undefined;
  return s.upgradeControl().catch((error: unknown) => {
    s.log.info({ err: error }, "control TLS handshake failed");
    s.close();
  });
}

function pbsz(s: Session, argument: string) {
  if (!s.secure) return s.reply(503, "PBSZ needs a TLS connection (AUTH TLS).");
  s.pbsz = true;
  s.reply(200, argument.trim() === "0" ? "PBSZ=0" : "PBSZ=0 (only 0 is supported)");
}

function prot(s: Session, argument: string) {
  if (!s.secure) return s.reply(503, "PROT needs a TLS connection (AUTH TLS).");
  const level = argument.trim().toUpperCase();
  if (level === "P") {
    s.protectData = true;
    return s.reply(200, "Protection level set to Private.");
  }
  if (level === "C") {
    if (s.ctx.config.tlsRequired) return s.reply(534, "Clear data connections are not allowed.");
    s.protectData = false;
    return s.reply(200, "Protection level set to Clear.");
  }
  if (level === "S" || level === "E") return s.reply(536, "Protection level not supported.");
  s.reply(504, "Unknown protection level.");
}

function user(s: Session, argument: string) {
  if (!tlsGate(s)) return;
  s.principal = undefined;
  s.vfs = undefined;
  s.pendingUser = argument.trim();
  s.reply(331, "User name okay, need password.");
}

async function pass(s: Session, argument: string): Promise<void> {
  if (!tlsGate(s)) return;
  if (s.principal) return s.reply(230, "Already logged in.");
  const login = s.pendingUser;
  if (login === undefined) return s.reply(503, "Login with USER first.");
  s.pendingUser = undefined;
  const { core, config } = s.ctx;
  const result = await core.logins.password("ftp", {
    address: s.peer,
    login,
    password: argument,
    log: s.log,
    gone: s.controlClosed,
  });
  if (result.kind === "gone") return;
  if (result.kind === "locked") {
    s.reply(421, lockoutText(result.lockout, core.now().getTime()));
    return s.close();
  }
  if (result.kind === "refused") return s.reply(530, "Login incorrect.");
  s.principal = result.principal;
  s.vfs = core.vfsFor(result.principal, { foldersFirst: config.listFormat === "aioftps3" });
  s.cwd = "/";
  s.reply(230, "User logged in, proceed.");
}

/** The 421 for a lockout: whose failures locked it and how long it lasts. */
export function lockoutText(lockout: Lockout, now: number): string {
  const seconds = Math.max(1, Math.ceil((lockout.until - now) / 1000));
  const wait = seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
  const whose = lockout.by === "address" ? "from your address" : "for this user name";
  return `Too many failed logins ${whose}; locked for ${wait}, until ${new Date(lockout.until).toISOString()}.`;
}

function opts(s: Session, argument: string) {
  const [option = "", value = ""] = argument.trim().split(/\s+/, 2);
  if (option.toUpperCase() === "UTF8") return s.reply(200, "Always in UTF8 mode.");
  if (option.toUpperCase() === "MLST") return s.reply(200, `MLST OPTS ${value || "type;size;modify;perm;"}`);
  s.reply(501, "Option not understood.");
}

function type(s: Session, argument: string) {
  const kind = argument.trim().toUpperCase().replace(/\s+/g, " ");
  if (["I", "L 8", "A", "A N"].includes(kind)) return s.reply(200, `Type set to ${kind[0]}.`);
  s.reply(504, "Type not supported.");
}

const only = (value: string, text: string) => (s: Session, argument: string) =>
  argument.trim().toUpperCase() === value ? s.reply(200, text) : s.reply(504, "Parameter not supported.");

async function stat(s: Session, argument: string): Promise<void> {
  if (argument.trim() === "" || !s.principal) {
    const state = s.transfer ? "A transfer is in progress." : "No transfer in progress.";
    return s.reply(211, [
      "FTP server status:",
      `Logged in as ${s.principal?.login ?? "(nobody)"}`,
      `TLS on control: ${s.secure ? "yes" : "no"}, on data: ${s.protectData ? "yes" : "no"}`,
      state,
      "End of status.",
    ]);
  }
  const now = s.ctx.core.now();
  const lines = ["Status of path:"];
  for await (const entry of s.vfs!.list(resolvePath(s.cwd, argument)))
    lines.push(formatListLine(s.ctx.config.listFormat, entry, now));
  lines.push("End of status.");
  s.reply(213, lines);
}

function help(s: Session) {
  const verbs = Object.keys(commands).sort();
  const rows: string[] = [];
  for (let i = 0; i < verbs.length; i += 10) rows.push(verbs.slice(i, i + 10).join(" "));
  s.reply(214, ["The following commands are recognized:", ...rows, "Help OK."]);
}

function quit(s: Session) {
  if (s.transfer) s.transfer.abort();
  s.reply(221, "Service closing control connection.");
  s.close();
}

const open = (handler: Command["handler"], argument: Command["argument"] = "none"): Command => ({
  handler,
  needsLogin: false,
  argument,
});
const needs = (handler: Command["handler"], argument: Command["argument"] = "required"): Command => ({
  handler,
  needsLogin: true,
  argument,
});

/** Every verb the gateway answers; anything else gets 502. Aliases (XPWD, …) share handlers. */
export const commands: Readonly<Record<string, Command>> = {
  AUTH: open(auth, "required"),
  PBSZ: open(pbsz, "required"),
  PROT: open(prot, "required"),
  USER: open(user, "required"),
  PASS: open(pass, "optional"),
  SYST: open((s) => s.reply(215, "UNIX Type: L8")),
  FEAT: open((s) => s.reply(211, features)),
  OPTS: open(opts, "required"),
  HELP: open(help, "optional"),
  NOOP: { ...open((s) => s.reply(200, "NOOP ok.")), urgent: true },
  QUIT: { ...open(quit), urgent: true },
  STAT: { ...open(stat, "optional"), urgent: true },
  ABOR: { ...needs(data.abor, "none"), urgent: true },
  TYPE: needs(type),
  MODE: needs(only("S", "Mode set to S.")),
  STRU: needs(only("F", "Structure set to F.")),
  ALLO: needs((s) => s.reply(202, "ALLO command ignored."), "optional"),
  PWD: needs(files.pwd, "none"),
  XPWD: needs(files.pwd, "none"),
  CWD: needs(files.cwd),
  XCWD: needs(files.cwd),
  CDUP: needs(files.cdup, "none"),
  XCUP: needs(files.cdup, "none"),
  MKD: needs(files.mkd),
  XMKD: needs(files.mkd),
  RMD: needs(files.rmd),
  XRMD: needs(files.rmd),
  DELE: needs(files.dele),
  RNFR: needs(files.rnfr),
  RNTO: needs(files.rnto),
  SIZE: needs(files.size),
  MDTM: needs(files.mdtm),
  MLST: needs(files.mlst, "optional"),
  REST: needs(data.rest),
  PASV: needs(data.pasv, "none"),
  EPSV: needs(data.epsv, "optional"),
  PORT: needs(data.port),
  EPRT: needs(data.eprt),
  LIST: needs(data.list, "optional"),
  NLST: needs(data.nlst, "optional"),
  MLSD: needs(data.mlsd, "optional"),
  RETR: needs(data.retr),
  STOR: needs(data.stor),
  APPE: needs(data.appe),
};

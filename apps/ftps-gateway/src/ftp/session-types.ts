import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ErrorCode } from "@wharf/errors";
import type { Logger } from "pino";
import type { Principal } from "../core/auth.ts";
import type { Core } from "../core/core.ts";
import type { Vfs } from "../core/vfs.ts";
import type { PassiveListener, PassivePool } from "./data.ts";
import type { ListFormat } from "./listing-format.ts";
import type { TlsUpgrader } from "./tls.ts";

// The shapes of an FTP session, apart from the code that runs one (session.ts), so commands and
// transfers can name them without importing the session loop that dispatches to them.

export interface SessionConfig {
  readonly tlsRequired: boolean;
  readonly sessionReuse: "optional" | "required";
  readonly activeMode: boolean;
  /** LIST lines: `ls -l` (default), or aioftps3's (folders first per page, `p` files, `%b %e %H:%M`). */
  readonly listFormat: ListFormat;
  readonly maxLineBytes: number;
  readonly idleTimeoutMs: number;
  readonly dataTimeoutMs: number;
  /** How long a STOR waits after the data connection's EOF for the control connection to drop. */
  readonly eofGraceMs: number;
}

/** What every session of one server shares: the core (users, files, uploads, metrics) and FTP's own parts. */
export interface ServerContext {
  readonly config: SessionConfig;
  readonly core: Core;
  readonly tls: TlsUpgrader;
  readonly passive: PassivePool;
  readonly passiveAddress: (peer: string, local: string) => Promise<string>;
  readonly logger: Logger;
}

export type DataPlan =
  | { readonly kind: "passive"; readonly listener: PassiveListener }
  | { readonly kind: "active"; readonly host: string; readonly port: number };

export interface ActiveTransfer {
  readonly abort: () => void;
  /** Settles once the transfer's final reply (226, 426, 4xx/5xx) has been sent. */
  readonly done: Promise<void>;
  aborted: boolean;
}

export interface Session {
  readonly id: string;
  readonly ctx: ServerContext;
  readonly log: Logger;
  readonly peer: string;
  readonly local: string;
  socket: Socket | TLSSocket;
  secure: boolean;
  protectData: boolean;
  pbsz: boolean;
  pendingUser: string | undefined;
  principal: Principal | undefined;
  vfs: Vfs | undefined;
  cwd: string;
  restOffset: number;
  renameFrom: string | undefined;
  data: DataPlan | undefined;
  epsvAll: boolean;
  transfer: ActiveTransfer | undefined;
  quitRequested: boolean;
  closed: boolean;
  readonly controlClosed: AbortSignal;
  /**
   * Sends a reply. A 4xx/5xx (but 421) counts in `ftps_gateway_errors_total{protocol="ftp"}` under
   * `errorCode` (the failure's code), else UNAUTHENTICATED for 530 and PROTOCOL for the rest.
   */
  reply(code: number, text: string | readonly string[], errorCode?: ErrorCode): void;
  /** AUTH TLS: detaches the line reader, runs the handshake and reads lines from the TLS socket. */
  upgradeControl(): Promise<void>;
  clearData(): void;
  close(): void;
}

export interface SessionHandle {
  readonly session: Session;
  /** Stops the session for a shutdown: waits up to `graceMs` for a running transfer, then 421 and close. */
  shutdown(graceMs: number): Promise<void>;
  readonly closed: Promise<void>;
}

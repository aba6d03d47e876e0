import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Verifier } from "@wharf/auth-jwt";
import { createLogger } from "@wharf/http-kit";
import type { StorageDriver } from "@wharf/storage-driver";
import { tempDir } from "@wharf/test-kit";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/core/config.ts";
import type { FolderTime } from "../src/core/vfs.ts";
import { loadTlsMaterial, type TlsMaterial } from "../src/ftp/tls.ts";
import type { HostKey } from "../src/sftp/host-keys.ts";

let material: Promise<TlsMaterial> | undefined;

/** One self-signed pair per test file (generation takes a moment). */
export function testTls(): Promise<TlsMaterial> {
  material ??= loadTlsMaterial({});
  return material;
}

export interface Gateway extends AsyncDisposable {
  readonly port: number;
  readonly implicitPort: number;
  readonly healthUrl: string;
  /** The SFTP port when `SFTP_PORT` is in `env` (with `hostKeys`). */
  readonly sftpPort: number | undefined;
  /** PEM file of the gateway's certificate, for clients' CA options. */
  readonly caFile: string;
  readonly dir: string;
  readonly app: ReturnType<typeof createApp>;
  /** The gateway's log records (info and above; also printed with FTPS_TEST_LOG set). */
  readonly log: Array<Record<string, unknown>>;
}

/** Starts the gateway in this process on loopback (ephemeral ports) with users `u`/`p` (rw) and `ro`/`ro` (read-only). */
export async function startGateway(options: {
  driver: StorageDriver;
  env?: Record<string, string>;
  verifier?: Verifier;
  now?: () => Date;
  /** Wait after an upload's EOF before it commits (default 30 ms). */
  eofGraceMs?: number;
  folderTime?: FolderTime;
  hostKeys?: readonly HostKey[];
}): Promise<Gateway> {
  const dir = await tempDir("ftps-gw-");
  const tls = await testTls();
  const caFile = join(dir.path, "ca.pem");
  await writeFile(caFile, tls.cert);
  const config = loadConfig({
    STORAGE_URL: "memory://",
    FTP_LISTEN_HOST: "127.0.0.1",
    FTP_COMMAND_PORT: "0",
    FTP_IMPLICIT_PORT: "0",
    HEALTHCHECK_PORT: "0",
    HEALTHCHECK_HOST: "127.0.0.1",
    FTP_LOGIN_FAILURE_DELAY_MS: "0",
    FTP_USERS__1__LOGIN: "u",
    FTP_USERS__1__PASSWORD: "p",
    FTP_USERS__2__LOGIN: "ro",
    FTP_USERS__2__PASSWORD: "ro",
    FTP_USERS__2__ACCESS: "ro",
    ...options.env,
  });
  const log: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    name: "ftps-test",
    level: process.env.FTPS_TEST_LOG ?? "info",
    destination: {
      write: (line: string) => {
        log.push(JSON.parse(line));
        if (process.env.FTPS_TEST_LOG) process.stdout.write(line);
      },
    },
  });
  const app = createApp({
    config,
    driver: options.driver,
    tls,
    logger,
    verifier: options.verifier,
    now: options.now,
    ...(options.folderTime ? { folderTime: options.folderTime } : {}),
    eofGraceMs: options.eofGraceMs ?? 30,
    hostKeys: options.hostKeys,
  });
  const listening = await app.listen();
  return {
    port: listening.commandPort,
    implicitPort: listening.implicitPort!,
    healthUrl: listening.healthUrl!,
    sftpPort: listening.sftpPort,
    caFile,
    dir: dir.path,
    app,
    log,
    [Symbol.asyncDispose]: async () => {
      await app.close(0);
      await dir[Symbol.asyncDispose]();
    },
  };
}

import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "basic-ftp";

const run = promisify(execFile);

/** CA variables the machine exports would change what the clients trust; tests pass the CA explicitly. */
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !["CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"].includes(name),
  ),
);

export interface Result {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a client; rejects with its output when it exits non-zero. */
export async function client(command: string, args: string[], timeoutMs = 60_000): Promise<Result> {
  try {
    return await run(command, args, { env: cleanEnv, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} exited ${e.code}:\n${e.stdout}\n${e.stderr}`);
  }
}

/** curl against the gateway; `mode` picks explicit (`--ssl-reqd`), implicit (`ftps://`) or plain. */
export function curl(
  gw: { port: number; implicitPort: number; caFile: string },
  mode: "explicit" | "implicit" | "plain",
  path: string,
  args: string[] = [],
): Promise<Result> {
  const url =
    mode === "implicit"
      ? `ftps://u:p@127.0.0.1:${gw.implicitPort}${path}`
      : `ftp://u:p@127.0.0.1:${gw.port}${path}`;
  const tls =
    mode === "explicit"
      ? ["--ssl-reqd", "--cacert", gw.caFile]
      : mode === "implicit"
        ? ["--cacert", gw.caFile]
        : [];
  return client("curl", ["-sS", "--fail", ...tls, ...args, url]);
}

/** lftp with a script; explicit FTPS with data protection and certificate verification on. */
export function lftp(
  gw: { port: number; implicitPort: number; caFile: string },
  mode: "explicit" | "implicit" | "plain",
  script: string,
): Promise<Result> {
  const settings =
    mode === "plain"
      ? "set ftp:ssl-allow no;"
      : `set ftp:ssl-force yes; set ftp:ssl-protect-data yes; set ssl:ca-file ${gw.caFile}; set ssl:check-hostname no;`;
  const url = mode === "implicit" ? `ftps://127.0.0.1:${gw.implicitPort}` : `ftp://127.0.0.1:${gw.port}`;
  return client("lftp", [
    "-u",
    "u,p",
    "-e",
    `${settings} set net:max-retries 1; set xfer:clobber on; ${script}; bye`,
    url,
  ]);
}

/** The Python ftplib scenario in ftplib-scenario.py (Debian's python3). */
export function ftplib(
  gw: { port: number; implicitPort: number; caFile: string },
  mode: string,
  workDir: string,
) {
  const script = join(import.meta.dirname, "ftplib-scenario.py");
  const port = mode === "implicit" ? gw.implicitPort : gw.port;
  return client("/usr/bin/python3", [script, String(port), mode, gw.caFile, workDir]);
}

/** basic-ftp logged in (explicit FTPS, the gateway's certificate trusted); `u`/`p` unless told. */
export async function basicFtp(
  gw: { port: number; caFile: string },
  options: { timeoutMs?: number; ftp?: Client } = {},
): Promise<Client> {
  const ftp = options.ftp ?? new Client(options.timeoutMs ?? 10_000);
  await ftp.access({
    host: "127.0.0.1",
    port: gw.port,
    user: "u",
    password: "p",
    secure: true,
    secureOptions: { ca: await readFile(gw.caFile, "utf8"), servername: "localhost" },
  });
  return ftp;
}

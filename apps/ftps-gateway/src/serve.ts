import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { type Algorithm, createVerifier } from "@wharf/auth-jwt";
import { isWharfError } from "@wharf/errors";
import {
  createLogger,
  describeError,
  guardProcess,
  loadConfigOrExit,
  loadEnvFile,
  onShutdown,
  StartupError,
  startStep,
} from "@wharf/http-kit";
import { createApp } from "./app.ts";
import { loadConfig } from "./core/config.ts";
import { openGatewayStorage } from "./core/storage.ts";
import { loadTlsMaterial } from "./ftp/tls.ts";
import { sftpHostKeys } from "./sftp/host-keys.ts";

const guard = guardProcess("ftps-gateway");
loadEnvFile();
const config = loadConfigOrExit(() => loadConfig(process.env), "ftps-gateway");
const dev = process.env.WHARF_DEV === "1";
const logger = createLogger({ name: "ftps-gateway", level: config.logLevel });

// aioftps3 read $HOME/ssl.crt and $HOME/ssl.key; use them when nothing else is configured.
const legacy = { certFile: join(homedir(), "ssl.crt"), keyFile: join(homedir(), "ssl.key") };
const tlsFiles =
  config.tls.certFile || !existsSync(legacy.certFile) || !existsSync(legacy.keyFile) ? config.tls : legacy;
// Outside dev, a certificate generated at every start is one no client can verify or pin: refuse it
// unless FTP_TLS_SELF_SIGNED=true says so, and then log its fingerprint.
if (!tlsFiles.certFile && !dev && !config.tls.selfSigned)
  throw new StartupError(
    "FTP_TLS_CERT_FILE",
    "no TLS certificate configured (nor $HOME/ssl.crt and $HOME/ssl.key)",
    "set FTP_TLS_CERT_FILE and FTP_TLS_KEY_FILE, or FTP_TLS_SELF_SIGNED=true for a generated one that clients cannot verify and that changes at every start",
  );
const tls = await startStep(
  "FTP_TLS_CERT_FILE",
  "point FTP_TLS_CERT_FILE and FTP_TLS_KEY_FILE at a readable PEM certificate and its key",
  async () => {
    const material = await loadTlsMaterial(tlsFiles);
    createSecureContext({ cert: material.cert, key: material.key });
    return material;
  },
);
if (tls.generated && !dev)
  logger.warn(
    { sha256: new X509Certificate(tls.cert).fingerprint256 },
    "FTP_TLS_SELF_SIGNED=true: serving a self-signed certificate generated for this process; clients cannot verify it and it changes at every start",
  );
const { driver, folderTime } = await openGatewayStorage(config, logger);
const publicKeyFile = config.jwt?.publicKeyFile;
const publicKey = publicKeyFile
  ? await startStep("FTP_JWT_PUBLIC_KEY_FILE", "point it at a readable PEM public key", () =>
      readFile(publicKeyFile, "utf8"),
    )
  : undefined;
const verifier = config.jwt
  ? createVerifier({
      algorithms: config.jwt.algorithms as Algorithm[],
      secret: config.jwt.secret,
      publicKey,
      jwksUrl: config.jwt.jwksUrl,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    })
  : undefined;

const hostKeys = config.sftp
  ? await sftpHostKeys(config.sftp.hostKeyFiles, config.storageUrl).catch((error: unknown) => {
      if (!isWharfError(error, "INVALID_ARGUMENT")) throw error;
      // Its message names SFTP_HOST_KEY_FILE and the file: one line, exit 2, as every start-up problem.
      process.stderr.write(`ftps-gateway: ${error.message}\n`);
      process.exit(2);
    })
  : undefined;
for (const key of hostKeys ?? [])
  logger.info({ type: key.type, fingerprint: key.fingerprint }, "ssh host key");

const app = createApp({
  config,
  driver,
  tls,
  logger,
  verifier,
  hostKeys,
  ...(folderTime ? { folderTime } : {}),
});
const listening = await app.listen().catch((error: unknown) => {
  const port = (error as { port?: number }).port;
  const setting =
    port === config.implicitPort
      ? "FTP_IMPLICIT_PORT"
      : port === config.health?.port
        ? "HEALTHCHECK_PORT"
        : "FTP_COMMAND_PORT";
  throw new StartupError(
    setting,
    describeError(error),
    `stop what listens there, or set another ${setting}`,
    {
      cause: error,
    },
  );
});
onShutdown(logger, [() => app.close(config.shutdownGraceMs), () => driver.close()], {
  timeoutMs: config.shutdownGraceMs + 15_000,
});
guard.serving(logger);
logger.info({ ...listening, storage: driver.name, tlsGenerated: tls.generated }, "listening");

if (dev) {
  let certNote = "";
  if (tls.generated && config.storageUrl.startsWith("/")) {
    const certPath = join(config.storageUrl, "..", "ftps-gateway-cert.pem");
    await mkdir(join(certPath, ".."), { recursive: true });
    await writeFile(certPath, tls.cert);
    certNote = `\n  self-signed certificate: ${certPath} (curl --cacert, lftp ssl:ca-file)`;
  }
  const user = config.users[0];
  const login = user ? `user ${user.login}, password ${user.password ?? "(hashed)"}` : "JWT as password";
  process.stderr.write(
    `ftps-gateway: ftp://127.0.0.1:${listening.commandPort} (AUTH TLS required: ${config.tls.required})` +
      `${listening.implicitPort ? `, implicit ftps://127.0.0.1:${listening.implicitPort}` : ""}` +
      `\n  ${login}; storage ${config.storageUrl}; health ${listening.healthUrl ?? "off"}${certNote}` +
      `\n  try: curl --ssl-reqd -k -u ${user?.login ?? "USER"}:PASSWORD ftp://127.0.0.1:${listening.commandPort}/` +
      `${listening.sftpPort ? `\n  sftp: sftp -P ${listening.sftpPort} ${user?.login ?? "USER"}@127.0.0.1 (host key ${hostKeys?.[0]?.fingerprint})` : ""}\n`,
  );
}

import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { type Algorithm, createVerifier } from "@wharf/auth-jwt";
import { isWharfError } from "@wharf/errors";
import { createLogger, loadConfigOrExit, onShutdown } from "@wharf/http-kit";
import { openStorage } from "@wharf/storage-driver";
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { sftpHostKeys } from "./sftp/host-keys.ts";
import { loadTlsMaterial } from "./tls.ts";

const config = loadConfigOrExit(() => loadConfig(process.env), "ftps-gateway");
const logger = createLogger({ name: "ftps-gateway", level: config.logLevel });

// aioftps3 read $HOME/ssl.crt and $HOME/ssl.key; use them when nothing else is configured.
const legacy = { certFile: join(homedir(), "ssl.crt"), keyFile: join(homedir(), "ssl.key") };
const tlsFiles =
  config.tls.certFile || !existsSync(legacy.certFile) || !existsSync(legacy.keyFile) ? config.tls : legacy;
const tls = await loadTlsMaterial(tlsFiles);
if (!config.verifyCerts)
  logger.warn("AWS_S3_BUCKET__VERIFY_CERTS=false is ignored: S3 certificates are verified");

// No FTP verb shows an etag, so fs writes need not hash the bytes (etag=md5 in the URL still wins).
const driver = await openStorage(config.storageUrl, { fsEtag: "version" });
const verifier = config.jwt
  ? createVerifier({
      algorithms: config.jwt.algorithms as Algorithm[],
      secret: config.jwt.secret,
      publicKey: config.jwt.publicKeyFile ? await readFile(config.jwt.publicKeyFile, "utf8") : undefined,
      jwksUrl: config.jwt.jwksUrl,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    })
  : undefined;

const hostKeys = config.sftp
  ? await sftpHostKeys(config.sftp.hostKeyFiles, config.storageUrl).catch((error: unknown) => {
      if (!isWharfError(error, "INVALID_ARGUMENT")) throw error;
      process.stderr.write(`ftps-gateway: ${error.message}\n`);
      process.exit(2);
    })
  : undefined;
for (const key of hostKeys ?? [])
  logger.info({ type: key.type, fingerprint: key.fingerprint }, "ssh host key");

const app = createApp({ config, driver, tls, logger, verifier, hostKeys });
const listening = await app.listen();
logger.info({ ...listening, storage: driver.name, tlsGenerated: tls.generated }, "listening");

onShutdown(logger, [() => app.close(config.shutdownGraceMs), () => driver.close()], {
  timeoutMs: config.shutdownGraceMs + 15_000,
});

if (process.env.WHARF_DEV === "1") {
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

import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { type Algorithm, createVerifier } from "@wharf/auth-jwt";
import { createLogger, loadConfigOrExit, onShutdown } from "@wharf/http-kit";
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { openGatewayStorage } from "./storage.ts";
import { loadTlsMaterial } from "./tls.ts";

const config = loadConfigOrExit(() => loadConfig(process.env), "ftps-gateway");
const logger = createLogger({ name: "ftps-gateway", level: config.logLevel });

// aioftps3 read $HOME/ssl.crt and $HOME/ssl.key; use them when nothing else is configured.
const legacy = { certFile: join(homedir(), "ssl.crt"), keyFile: join(homedir(), "ssl.key") };
const tlsFiles =
  config.tls.certFile || !existsSync(legacy.certFile) || !existsSync(legacy.keyFile) ? config.tls : legacy;
const tls = await loadTlsMaterial(tlsFiles);
const { driver, folderTime } = await openGatewayStorage(config, logger);
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

const app = createApp({ config, driver, tls, logger, verifier, ...(folderTime ? { folderTime } : {}) });
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
      `\n  try: curl --ssl-reqd -k -u ${user?.login ?? "USER"}:PASSWORD ftp://127.0.0.1:${listening.commandPort}/\n`,
  );
}

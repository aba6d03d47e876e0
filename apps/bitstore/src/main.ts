import { createIssuer, createVerifier } from "@wharf/auth-jwt";
import { createLogger, createMetrics, loadConfigOrExit, onShutdown, serveHttp } from "@wharf/http-kit";
import { openStorage } from "@wharf/storage-driver";
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { devKeyPair } from "./dev-key.ts";
import { type ProbeReport, probeStore } from "./probe.ts";
import { createServices } from "./services.ts";
import { missingCapabilities } from "./store-needs.ts";

const env: Record<string, string | undefined> = { ...process.env };
const dev = env.WHARF_DEV === "1";
const devKey = dev && !env.DATAHUB_PUBLIC_KEY && env.DEV_KEY_FILE ? devKeyPair(env.DEV_KEY_FILE) : undefined;
if (devKey) env.DATAHUB_PUBLIC_KEY = devKey.publicKey;

const config = loadConfigOrExit(() => loadConfig(env), "bitstore");
const logger = createLogger({ name: "bitstore", level: config.logLevel });
const metrics = createMetrics({ prefix: "bitstore" });

// The credentials only reach S3 drivers (file: storage ignores them).
const driver = await openStorage(config.storage.url, { credentials: config.credentials });
const missing = missingCapabilities(driver, config.storage);
if (missing.length > 0) {
  for (const line of missing) process.stderr.write(`bitstore: ${line}\n`);
  process.exit(2);
}

let publicKey = config.auth.publicKey;
if (!publicKey && !config.auth.jwksUrl && config.auth.authServer) {
  const response = await fetch(`${config.auth.authServer.replace(/\/+$/, "")}/auth/public-key`);
  if (!response.ok) {
    logger.fatal({ status: response.status }, "could not fetch the public key from AUTH_SERVER");
    process.exit(1);
  }
  publicKey = (await response.text()).trim();
}
const verifier = createVerifier({
  algorithms: config.auth.algorithms as never,
  ...(publicKey ? { publicKey } : { jwksUrl: config.auth.jwksUrl as string }),
});

let probe: ProbeReport | undefined;
const app = createApp({ config, driver, verifier, logger, metrics, probe: () => probe });
const server = await serveHttp(app.fetch, { port: config.port, host: config.host });
logger.info(
  { url: server.url, service: config.serviceName, storage: config.storage.kind },
  "bitstore listening",
);

if (config.storage.kind === "s3" && config.startupProbe) {
  const { forms } = createServices({ config, driver });
  probeStore({ target: forms, driver, statePrefix: config.statePrefix })
    .then((report) => {
      probe = report;
      const gaps = Object.entries(report).filter(([, enforced]) => enforced === false);
      logger[gaps.length ? "warn" : "info"](
        { probe: report },
        gaps.length
          ? `the store does not enforce: ${gaps.map(([name]) => name).join(", ")}; use POST /${config.serviceName}/verify or VERIFY_UPLOADS=redirect`
          : "the store enforces every POST condition",
      );
    })
    .catch((error: unknown) => logger.warn({ err: error }, "start-up probe failed"));
} else if (config.storage.kind === "local") {
  probe = {
    checkedAt: new Date().toISOString(),
    signature: true,
    contentLengthRange: true,
    contentType: true,
    contentMd5: true,
  };
}

if (devKey) {
  const issuer = createIssuer({ algorithm: "RS256", privateKey: devKey.privateKey });
  const token = await issuer.issue(
    { userid: "dev", service: config.serviceName, permissions: { "datapackage-upload": true } },
    { expiresIn: "30d" },
  );
  process.stderr.write(
    [
      `bitstore (dev): ${server.url}/${config.serviceName}/ storing under ${config.storage.url}`,
      `  dev user "dev", token (Auth-Token header or ?jwt=):`,
      `  ${token}`,
      `  curl -H "Auth-Token: $TOKEN" ${server.url}/${config.serviceName}/info`,
      "",
    ].join("\n"),
  );
}

onShutdown(logger, [() => server.close(), () => driver.close()]);

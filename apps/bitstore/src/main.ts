import { createIssuer, createVerifier } from "@wharf/auth-jwt";
import {
  createLogger,
  createMetrics,
  drainHttp,
  guardProcess,
  loadConfigOrExit,
  loadEnvFile,
  onShutdown,
  StartupError,
  serveHttp,
  shutdownTimeoutMs,
  startStep,
} from "@wharf/http-kit";
import { abortStaleUploads, openStorage } from "@wharf/storage-driver";
import { createApp } from "./app.ts";
import { loadConfig, namesBucket } from "./config.ts";
import { devKeyPair } from "./dev-key.ts";
import { localCredentials } from "./local-credentials.ts";
import { type ProbeReport, probeStore } from "./probe.ts";
import { createServices } from "./services.ts";
import { formsBucket, storeNeeds } from "./store-needs.ts";

const guard = guardProcess("bitstore");
loadEnvFile();
const env: Record<string, string | undefined> = { ...process.env };
const dev = env.WHARF_DEV === "1";
const devKeyFile = dev && !env.DATAHUB_PUBLIC_KEY ? env.DEV_KEY_FILE : undefined;
const devKey = devKeyFile
  ? await startStep("DEV_KEY_FILE", "point it at a writable file, or set DATAHUB_PUBLIC_KEY", () =>
      devKeyPair(devKeyFile),
    )
  : undefined;
if (devKey) env.DATAHUB_PUBLIC_KEY = devKey.publicKey;

// On a store that is no S3 bucket bitstore is both signer and verifier of its forms: it needs no key
// from anyone.
const storageUrl = env.STORAGE_URL?.trim();
if (
  storageUrl &&
  !namesBucket(storageUrl) &&
  !env.STORAGE_ACCESS_KEY_ID?.trim() &&
  !env.STORAGE_SECRET_ACCESS_KEY?.trim()
) {
  const store = await openStorage(storageUrl);
  const credentials = await localCredentials(store, env.STATE_PREFIX?.trim() || "_bitstore/");
  await store.close();
  env.STORAGE_ACCESS_KEY_ID = credentials.accessKeyId;
  env.STORAGE_SECRET_ACCESS_KEY = credentials.secretAccessKey;
}

const config = loadConfigOrExit(() => loadConfig(env), "bitstore");
const logger = createLogger({ name: "bitstore", level: config.logLevel });
const metrics = createMetrics({ prefix: "bitstore" });

// The credentials only reach S3 drivers (file: storage ignores them).
const driver = await openStorage(config.storage.url, { credentials: config.credentials });
const needs = storeNeeds(driver, config);
if (needs.refusals.length > 0) {
  for (const line of needs.refusals) process.stderr.write(`bitstore: ${line}\n`);
  process.exit(2);
}
for (const line of needs.warnings) logger.warn(line);
const bucket = formsBucket(driver, config.storage);

// Each large file /authorize names opens a multipart upload; those nobody finished keep their parts.
void abortStaleUploads(driver, { olderThanMs: config.abandonedUploadMs, log: logger });

let publicKey = config.auth.publicKey;
if (!publicKey && !config.auth.jwksUrl && config.auth.authServer) {
  const keyUrl = `${config.auth.authServer.replace(/\/+$/, "")}/auth/public-key`;
  const hint = "start the auth server, correct AUTH_SERVER, or set DATAHUB_PUBLIC_KEY";
  publicKey = await startStep(
    "AUTH_SERVER",
    hint,
    async () => {
      const response = await fetch(keyUrl);
      if (!response.ok)
        throw new StartupError("AUTH_SERVER", `GET ${keyUrl} answered ${response.status}`, hint);
      return (await response.text()).trim();
    },
    `cannot fetch the public key from ${keyUrl}`,
  );
}
const verifier = createVerifier({
  algorithms: config.auth.algorithms as never,
  ...(publicKey ? { publicKey } : { jwksUrl: config.auth.jwksUrl as string }),
});

let probe: ProbeReport | undefined;
const app = createApp({ config, driver, verifier, logger, metrics, probe: () => probe });
const server = await startStep("PORT", "stop what listens there, or set another PORT or HOST", () =>
  serveHttp(app.fetch, { port: config.port, host: config.host }),
);
onShutdown(logger, [() => drainHttp(server, config.shutdownDelayMs, logger), () => driver.close()], {
  timeoutMs: config.shutdownDelayMs + shutdownTimeoutMs,
});
guard.serving(logger);
logger.info(
  { url: server.url, service: config.serviceName, uploads: bucket ? "store" : "bitstore" },
  "bitstore listening",
);

if (bucket && config.startupProbe) {
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
} else if (!bucket) {
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

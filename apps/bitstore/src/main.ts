import { createIssuer, createVerifier } from "@wharf/auth-jwt";
import {
  createLogger,
  createMetrics,
  guardProcess,
  loadConfigOrExit,
  loadEnvFile,
  onShutdown,
  StartupError,
  serveHttp,
  startStep,
} from "@wharf/http-kit";
import { openStorage } from "@wharf/storage-driver";
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { devKeyPair } from "./dev-key.ts";
import { type ProbeReport, probeStore } from "./probe.ts";
import { createServices } from "./services.ts";

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

const config = loadConfigOrExit(() => loadConfig(env), "bitstore");
const logger = createLogger({ name: "bitstore", level: config.logLevel });
const metrics = createMetrics({ prefix: "bitstore" });

const driver = await openStorage(
  config.storage.url,
  config.storage.kind === "s3" ? { credentials: config.credentials } : {},
);

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
onShutdown(logger, [() => server.close(), () => driver.close()]);
guard.serving(logger);
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

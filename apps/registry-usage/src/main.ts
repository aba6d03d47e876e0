import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { createIssuer } from "@wharf/auth-jwt";
import {
  createLogger,
  createMetrics,
  drainHttp,
  guardProcess,
  loadConfigOrExit,
  loadEnvFile,
  onShutdown,
  serveHttp,
  shutdownTimeoutMs,
  startStep,
} from "@wharf/http-kit";
import { createApp } from "./app.ts";
import { defaultConfigText, loadConfig } from "./config.ts";
import { createDirtyMarks } from "./dirty-marks.ts";
import { createHistory } from "./history.ts";
import { createLdapAuthenticator } from "./ldap-auth.ts";
import { openUsageStore } from "./open-store.ts";
import { createRefresher } from "./refresher.ts";
import { createRegistryClient } from "./registry-client.ts";
import { createSnapshotStore } from "./snapshot-store.ts";

const name = "registry-usage";
const guard = guardProcess(name);
loadEnvFile();
const defaultConfigPath = "/etc/gitlab_registry_usage_rest.conf";

const { values: args } = parseArgs({
  options: {
    config: { type: "string", short: "c" },
    "print-default-config": { type: "boolean" },
    version: { type: "boolean", short: "V" },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(
    `usage: ${name} [-c FILE (default ${defaultConfigPath})] [--print-default-config] [-V]\n`,
  );
  process.exit(0);
}
if (args.version) {
  process.stdout.write(
    `${name} ${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`,
  );
  process.exit(0);
}
if (args["print-default-config"]) {
  process.stdout.write(defaultConfigText);
  process.exit(0);
}

const configPath =
  args.config ??
  (process.env.REGISTRY_USAGE_CONFIG || undefined) ??
  (existsSync(defaultConfigPath) ? defaultConfigPath : undefined);
const iniText =
  configPath === undefined
    ? undefined
    : await startStep(
        args.config ? "-c" : "REGISTRY_USAGE_CONFIG",
        "point it at a readable config file (--print-default-config prints one)",
        () => readFileSync(configPath, "utf8"),
        `cannot read the config file ${configPath}`,
      );
const config = loadConfigOrExit(() => loadConfig(process.env, iniText), name);
const caFile = config.ldap.caFile;
const ca = caFile
  ? await startStep("ldap.ca_file", "point it at a readable PEM file of the LDAP server's CA", () =>
      readFileSync(caFile, "utf8"),
    )
  : undefined;

const logger = createLogger({ name, level: config.logLevel });
const driver = await openUsageStore(config.storage.url, logger);
const store = createSnapshotStore({
  driver,
  prefix: config.storage.prefix,
  reloadIntervalMs: config.storage.reloadIntervalSeconds * 1000,
});
const client = createRegistryClient({
  url: config.registry.url,
  ...(config.registry.username ? { username: config.registry.username } : {}),
  ...(config.registry.password ? { password: config.registry.password } : {}),
  ...(config.registry.gitlabUrl ? { gitlabUrl: config.registry.gitlabUrl } : {}),
  concurrency: config.registry.concurrency,
  timeoutMs: config.registry.timeoutMs,
});
const { secret: notifySecret, ...notify } = config.notifications;
const notifications = notifySecret
  ? {
      config: { ...notify, secret: notifySecret },
      marks: createDirtyMarks({ driver, prefix: config.storage.prefix }),
    }
  : undefined;
const history = createHistory({
  driver,
  prefix: config.storage.prefix,
  retentionDays: config.web.historyRetentionDays,
});
const refresher = createRefresher({
  store,
  history,
  client,
  holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  refreshIntervalSeconds: config.registry.refreshIntervalSeconds,
  leaseSeconds: config.storage.leaseSeconds,
  pageSize: config.registry.pageSize,
  ...(notifications
    ? {
        notifications: {
          marks: notifications.marks,
          intervalSeconds: notify.intervalSeconds,
          reconcileIntervalSeconds: notify.reconcileIntervalSeconds,
        },
      }
    : {}),
  logger,
});
const app = createApp({
  config,
  store,
  ldap: createLdapAuthenticator({ ...config.ldap, ...(ca ? { ca } : {}) }),
  history,
  web: { secureCookie: config.web.secureCookie },
  logger,
  metrics: createMetrics({ prefix: "registry_usage" }),
  ...(notifications ? { notifications } : {}),
});
const server = await startStep(
  "general.socket_port (PORT)",
  "stop what listens there, or set another socket_port/socket_host (PORT/HOST)",
  () =>
    serveHttp(app.fetch, {
      port: config.port,
      host: config.host,
      readinessPath: `${config.prefix}/healthz`,
    }),
);
onShutdown(
  logger,
  [() => drainHttp(server, config.shutdownDelayMs, logger), () => refresher.stop(), () => driver.close()],
  { timeoutMs: config.shutdownDelayMs + shutdownTimeoutMs },
);
guard.serving(logger);
logger.info(
  {
    url: server.url,
    prefix: config.prefix || "/",
    registry: config.registry.url,
    storage: driver.name,
    notifications: notifications ? `${config.prefix}${notify.path}` : "off",
  },
  "listening",
);
refresher.start();

if (config.dev) {
  const token = await createIssuer({ algorithm: "HS256", secret: config.jwt.secret }).issue(
    { fresh: false, type: "access" },
    { expiresIn: "30 days", subject: "dev", jti: randomUUID() },
  );
  process.stderr.write(
    [
      "",
      `registry-usage: HAL API on ${server.url}${config.prefix}/repositories (registry ${config.registry.url})`,
      `  curl -H 'Authorization: Bearer ${token}' '${server.url}${config.prefix}/repositories?embed=true&links=true'`,
      `  (GET ${config.prefix}/auth_token with LDAP Basic credentials mints such tokens; LDAP is ${config.ldap.url})`,
      "",
    ].join("\n"),
  );
}

import { parseDuration } from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import { ConfigError, shutdownDelaySeconds } from "@wharf/http-kit";
import { parseStorageUrl } from "@wharf/storage-driver";
import { parse as parseIni } from "ini";
import { z } from "zod";

/**
 * The original's INI file (`--print-default-config`), extended with wharf's own keys. The first
 * five sections' keys are the original's, with its defaults, except `socket_host`: 0.0.0.0 (the
 * original's is 127.0.0.1), as every Wharf app listens on all addresses unless told otherwise.
 */
export const defaultConfigText = `[general]
socket_host = 0.0.0.0
socket_port = 5000
server_prefix = /
debug = False
log_level = info
shutdown_delay_seconds = 0

[ldap]
host = myldap.com
base_dn = dc=example,dc=com
valid_gid = 00000
username_attribute = uid
gid_attribute = gidNumber
group_dn =
start_tls = False
ca_file =
bind_dn =
bind_password =
timeout = 10s

[jwt]
auth_token_expires = 2 weeks
secret_key = 00000000000000000000000000000000

[registry]
gitlab_base_url = https://mygitlab.com/
registry_base_url = https://registry.mygitlab.com/
username = root
access_token = 00000000000000000000
refresh_interval = 60 minutes
concurrency = 8
page_size = 1000
timeout = 30s

[storage]
url = ./data/registry-usage
prefix = registry-usage/
lease = 5 minutes
reload_interval = 10s

[notifications]
secret =
path = /events
header = Authorization
interval = 30s
reconcile_interval = 24 hours

[login]
max_failures = 5
address_max_failures = 20
failure_window = 1 hour
lockout = 30 minutes

[web]
secure_cookie = False
history_retention = 365 days

[visibility]
default = *
`;

export interface LdapConfig {
  /** `ldap://…` or `ldaps://…` (a bare host becomes `ldaps://host`, as in the original). */
  readonly url: string;
  readonly baseDn: string;
  readonly usernameAttribute: string;
  /** Both set: only entries with `gidAttribute=validGid` may log in. */
  readonly gidAttribute?: string;
  readonly validGid?: string;
  /** A group entry (groupOfNames, groupOfUniqueNames or posixGroup) the user must belong to. */
  readonly groupDn?: string;
  readonly startTls: boolean;
  /** PEM file of the CA that signed the LDAP server's certificate. */
  readonly caFile?: string;
  readonly bindDn?: string;
  readonly bindPassword?: string;
  readonly timeoutMs: number;
}

export interface RegistryConfig {
  /** Without a trailing slash. */
  readonly url: string;
  readonly gitlabUrl?: string;
  readonly username?: string;
  readonly password?: string;
  readonly refreshIntervalSeconds: number;
  readonly concurrency: number;
  readonly pageSize: number;
  readonly timeoutMs: number;
}

export interface NotificationsSettings {
  /** Shared secret the registry sends; without it there is no endpoint and every pass HEADs every tag. */
  readonly secret?: string;
  /** Below the server prefix, starting with `/`. */
  readonly path: string;
  readonly header: string;
  /** Least time between two event-driven passes. */
  readonly intervalSeconds: number;
  /** Longest time between two passes that check every tag. */
  readonly reconcileIntervalSeconds: number;
}

export interface LoginLimits {
  /** Failed logins per user name that lock it out. */
  readonly maxFailures: number;
  /** Failed logins per client address that lock it out; 0: addresses are not counted. */
  readonly addressMaxFailures: number;
  /** The counts drain at their limit per window. */
  readonly windowMs: number;
  readonly lockoutMs: number;
}

export interface RegistryUsageConfig {
  readonly host: string;
  readonly port: number;
  /** "" or "/path" without a trailing slash. */
  readonly prefix: string;
  readonly debug: boolean;
  readonly logLevel: string;
  /** On SIGTERM: how long readiness answers 503 while requests are still served, before the listener closes. */
  readonly shutdownDelayMs: number;
  readonly dev: boolean;
  readonly ldap: LdapConfig;
  readonly jwt: { readonly secret: string; readonly expiresInSeconds: number };
  readonly registry: RegistryConfig;
  readonly storage: {
    readonly url: string;
    readonly prefix: string;
    readonly leaseSeconds: number;
    readonly reloadIntervalSeconds: number;
  };
  readonly notifications: NotificationsSettings;
  /** Brute-force limits of `/auth_token`, counted in this process's memory. */
  readonly login: LoginLimits;
  /** The browser dashboard: cookie `Secure` even over plain HTTP (TLS ends at a proxy); history kept. */
  readonly web: { readonly secureCookie: boolean; readonly historyRetentionDays: number };
  /** Repository name prefixes each user may see; `*` means every repository. */
  readonly visibility: {
    readonly default: readonly string[];
    readonly users: Readonly<Record<string, readonly string[]>>;
  };
}

type Sections = Record<string, Record<string, string>>;

/** Reads INI text into lower-cased sections of string values (configparser-like). */
export function parseIniText(text: string): Sections {
  const parsed = parseIni(text) as Record<string, unknown>;
  const sections: Sections = {};
  for (const [name, values] of Object.entries(parsed)) {
    if (typeof values !== "object" || values === null) {
      throw new ConfigError([`${name}: every setting must be inside a [section]`]);
    }
    const section: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) section[key.toLowerCase()] = String(value).trim();
    sections[name.toLowerCase()] = section;
  }
  return sections;
}

const envPrefix = "REGISTRY_USAGE_";
/** Short names kept for the conventions every wharf app shares. */
const envAliases: Record<string, string> = {
  HOST: "general.socket_host",
  PORT: "general.socket_port",
  LOG_LEVEL: "general.log_level",
  SHUTDOWN_DELAY_SECONDS: "general.shutdown_delay_seconds",
  STORAGE_URL: "storage.url",
};

function overlayEnv(sections: Sections, env: Record<string, string | undefined>, known: Sections): void {
  const set = (path: string, value: string) => {
    const [section, key] = path.split(".") as [string, string];
    sections[section] ??= {};
    sections[section][key] = value.trim();
  };
  for (const [name, path] of Object.entries(envAliases)) {
    const value = env[name];
    if (value !== undefined && value !== "") set(path, value);
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(envPrefix) || value === undefined || name === `${envPrefix}CONFIG`) continue;
    const rest = name.slice(envPrefix.length).toLowerCase();
    if (rest.startsWith("visibility_")) {
      set(`visibility.${rest.slice("visibility_".length)}`, value);
      continue;
    }
    const section = Object.keys(known).find((s) => rest.startsWith(`${s}_`));
    if (!section) throw new ConfigError([`${name}: no such setting (expected ${envPrefix}<SECTION>_<KEY>)`]);
    set(`${section}.${rest.slice(section.length + 1)}`, value);
  }
}

const truthy = ["1", "yes", "true", "on"];
const falsy = ["0", "no", "false", "off"];
const bool = z.string().transform((v, ctx) => {
  const lower = v.toLowerCase();
  if (truthy.includes(lower)) return true;
  if (falsy.includes(lower)) return false;
  ctx.addIssue({ code: "custom", message: `must be a boolean (true/false/yes/no/on/off/1/0), got "${v}"` });
  return z.NEVER;
});
const duration = z.string().transform((v, ctx) => {
  try {
    return /^\d+$/.test(v) ? Number(v) : parseDuration(v);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: error instanceof WharfError ? error.message : "bad duration" });
    return z.NEVER;
  }
});
const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().min(min).max(max));
const optional = z.string().transform((v) => (v === "" ? undefined : v));
const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, "must be an http(s) URL")
  .transform((v) => v.replace(/\/+$/, ""));
const prefixList = z.string().transform((v) =>
  v
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean),
);

const schema = z.strictObject({
  general: z.strictObject({
    socket_host: z.string().min(1),
    socket_port: int(0, 65535),
    server_prefix: z
      .string()
      .regex(/^\/[^\s?#]*$/, "must start with / (e.g. / or /registry-usage)")
      .transform((v) => v.replace(/\/+$/, "")),
    debug: bool,
    log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    shutdown_delay_seconds: shutdownDelaySeconds,
  }),
  ldap: z.strictObject({
    host: z.string().min(1),
    base_dn: z.string().min(1),
    valid_gid: optional,
    username_attribute: z.string().regex(/^[A-Za-z][\w-]*$/, "must be an attribute name"),
    gid_attribute: optional.pipe(
      z
        .string()
        .regex(/^[A-Za-z][\w-]*$/, "must be an attribute name")
        .optional(),
    ),
    group_dn: optional,
    start_tls: bool,
    ca_file: optional,
    bind_dn: optional,
    bind_password: optional,
    timeout: duration.pipe(z.number().min(1).max(300)),
  }),
  jwt: z.strictObject({
    auth_token_expires: duration.pipe(z.number().min(1)),
    secret_key: z
      .string()
      .min(16, "must be at least 16 characters")
      .refine((v) => !/^0+$/.test(v), "is still the placeholder of the default config: set a random secret"),
  }),
  registry: z.strictObject({
    gitlab_base_url: optional.pipe(httpUrl.optional()),
    registry_base_url: httpUrl,
    username: optional,
    access_token: optional,
    refresh_interval: duration.pipe(z.number().min(1)),
    concurrency: int(1, 256),
    page_size: int(1, 1000),
    timeout: duration.pipe(z.number().min(1).max(600)),
  }),
  storage: z.strictObject({
    url: z
      .string()
      .min(1)
      .superRefine((url, ctx) => {
        try {
          parseStorageUrl(url);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
        }
      }),
    prefix: z
      .string()
      .regex(
        /^([^/\s.][^\s]*\/)?$/,
        "must be empty or a relative prefix ending with / (e.g. registry-usage/)",
      ),
    lease: duration.pipe(z.number().min(5)),
    reload_interval: duration.pipe(z.number().min(1)),
  }),
  notifications: z.strictObject({
    secret: optional.pipe(z.string().min(16, "must be at least 16 characters").optional()),
    path: z.string().regex(/^\/[^\s?#]*[^\s?#/]$/, "must start with / and not end with / (e.g. /events)"),
    header: z.string().regex(/^[A-Za-z0-9-]+$/, "must be an HTTP header name"),
    interval: duration.pipe(z.number().min(1)),
    reconcile_interval: duration.pipe(z.number().min(60)),
  }),
  login: z.strictObject({
    max_failures: int(1, 1000),
    address_max_failures: int(0, 100_000),
    failure_window: duration.pipe(z.number().min(1)),
    lockout: duration.pipe(z.number().min(1)),
  }),
  web: z.strictObject({
    secure_cookie: bool,
    history_retention: duration.pipe(z.number().min(86_400, "must be at least 1 day")),
  }),
  visibility: z.record(z.string(), prefixList),
});

/**
 * Builds the configuration from the original's INI text (optional) and the environment
 * (`REGISTRY_USAGE_<SECTION>_<KEY>`, plus HOST, PORT, LOG_LEVEL, SHUTDOWN_DELAY_SECONDS, STORAGE_URL). Pure: the caller
 * reads the file. Throws `ConfigError` listing every problem at once.
 *
 * @example
 * loadConfig(process.env, readFileSync("/etc/gitlab_registry_usage_rest.conf", "utf8"));
 */
export function loadConfig(env: Record<string, string | undefined>, iniText?: string): RegistryUsageConfig {
  const defaults = parseIniText(defaultConfigText);
  const sections: Sections = structuredClone(defaults);
  if (iniText !== undefined) {
    for (const [name, values] of Object.entries(parseIniText(iniText))) {
      if (name === "visibility") sections.visibility = { ...values };
      else sections[name] = { ...sections[name], ...values };
    }
  }
  overlayEnv(sections, env, defaults);
  const dev = truthy.includes((env.WHARF_DEV ?? "").toLowerCase());
  if (dev && /^0+$/.test(sections.jwt?.secret_key ?? "")) {
    throw new ConfigError([
      "jwt.secret_key: set REGISTRY_USAGE_JWT_SECRET_KEY (the dev profile passes DEV_SECRET)",
    ]);
  }
  const parsed = schema.safeParse(sections);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const path = issue.path.join(".");
        if (issue.code === "unrecognized_keys") {
          return `${path ? `${path}: ` : ""}unknown setting(s) ${issue.keys.join(", ")}`;
        }
        return `${path}: ${issue.message}`;
      }),
    );
  }
  return build(parsed.data, dev);
}

function build(s: z.output<typeof schema>, dev: boolean): RegistryUsageConfig {
  const { default: defaultVisibility = ["*"], ...users } = s.visibility;
  const ldapUrl = /^ldaps?:\/\//i.test(s.ldap.host) ? s.ldap.host : `ldaps://${s.ldap.host}`;
  const gidGate = s.ldap.gid_attribute !== undefined && s.ldap.valid_gid !== undefined;
  return {
    host: s.general.socket_host,
    port: s.general.socket_port,
    prefix: s.general.server_prefix,
    debug: s.general.debug,
    logLevel: s.general.debug && s.general.log_level === "info" ? "debug" : s.general.log_level,
    shutdownDelayMs: s.general.shutdown_delay_seconds,
    dev,
    ldap: {
      url: ldapUrl,
      baseDn: s.ldap.base_dn,
      usernameAttribute: s.ldap.username_attribute,
      ...(gidGate ? { gidAttribute: s.ldap.gid_attribute, validGid: s.ldap.valid_gid } : {}),
      ...(s.ldap.group_dn ? { groupDn: s.ldap.group_dn } : {}),
      startTls: s.ldap.start_tls,
      ...(s.ldap.ca_file ? { caFile: s.ldap.ca_file } : {}),
      ...(s.ldap.bind_dn ? { bindDn: s.ldap.bind_dn, bindPassword: s.ldap.bind_password ?? "" } : {}),
      timeoutMs: s.ldap.timeout * 1000,
    },
    jwt: { secret: s.jwt.secret_key, expiresInSeconds: s.jwt.auth_token_expires },
    registry: {
      url: s.registry.registry_base_url,
      ...(s.registry.gitlab_base_url ? { gitlabUrl: s.registry.gitlab_base_url } : {}),
      ...(s.registry.username ? { username: s.registry.username } : {}),
      ...(s.registry.access_token ? { password: s.registry.access_token } : {}),
      refreshIntervalSeconds: s.registry.refresh_interval,
      concurrency: s.registry.concurrency,
      pageSize: s.registry.page_size,
      timeoutMs: s.registry.timeout * 1000,
    },
    storage: {
      url: s.storage.url,
      prefix: s.storage.prefix,
      leaseSeconds: s.storage.lease,
      reloadIntervalSeconds: s.storage.reload_interval,
    },
    notifications: {
      ...(s.notifications.secret ? { secret: s.notifications.secret } : {}),
      path: s.notifications.path,
      header: s.notifications.header,
      intervalSeconds: s.notifications.interval,
      reconcileIntervalSeconds: s.notifications.reconcile_interval,
    },
    login: {
      maxFailures: s.login.max_failures,
      addressMaxFailures: s.login.address_max_failures,
      windowMs: s.login.failure_window * 1000,
      lockoutMs: s.login.lockout * 1000,
    },
    web: { secureCookie: s.web.secure_cookie, historyRetentionDays: s.web.history_retention / 86_400 },
    visibility: { default: defaultVisibility, users },
  };
}

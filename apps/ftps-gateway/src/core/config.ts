import { createSecureContext } from "node:tls";
import { ConfigError, parseConfig } from "@wharf/http-kit";
import { parseStorageUrl } from "@wharf/storage-driver";
import { z } from "zod";
import { authorizedKeyLines } from "./authorized-keys.ts";

/** One FTP account: a plain password or aioftps3's PBKDF2 pair, a home prefix and an access level. */
export interface UserConfig {
  readonly login: string;
  readonly password?: string;
  readonly passwordHashed?: string;
  readonly passwordSalt?: string;
  /** Key prefix the user is confined to ("" = the whole store). */
  readonly home: string;
  readonly access: "rw" | "ro";
  /** SFTP public keys, one `authorized_keys` line each (`ssh-ed25519 AAAA… comment`). */
  readonly authorizedKeys?: readonly string[];
  /** Public keys only: no password login over SFTP or FTP. */
  readonly keysOnly?: boolean;
}

export interface CidrDomain {
  readonly cidr: string;
  readonly domain: string;
}

export type Config = ReturnType<typeof loadConfig>;

/** Whether OpenSSL takes `groups` (`FTP_TLS_GROUPS`) as its key-exchange list. */
function tlsGroupsAccepted(groups: string): boolean {
  try {
    createSecureContext({ ecdhCurve: groups });
    return true;
  } catch {
    return false;
  }
}

const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().positive();
const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((value) => value === "true" || value === "1" || value === "yes");

const schema = z
  .object({
    STORAGE_URL: z.string().min(1).optional(),
    AWS_S3_BUCKET__NAME: z.string().min(1).optional(),
    AWS_S3_BUCKET__HOST: z.string().min(1).optional(),
    AWS_S3_BUCKET__REGION: z.string().min(1).optional(),
    AWS_S3_BUCKET__VERIFY_CERTS: z.string().optional(),
    AWS_CA_BUNDLE: z.string().min(1).optional(),
    FTP_LIST_FORMAT: z.enum(["ls", "aioftps3"]).default("ls"),
    AWS_S3_BUCKET__DIR_SUFFIX: z
      .string()
      .regex(/^\/[^\\\0]*$/, "must start with a forward slash")
      .refine((suffix) => !suffix.endsWith("//"), "must not end with //, e.g. / or /.s3keep")
      .default("/.s3keep"),
    FTP_LISTEN_HOST: z.string().min(1).default("0.0.0.0"),
    FTP_COMMAND_PORT: port.default(2121),
    FTP_IMPLICIT_PORT: port.optional(),
    FTP_DATA_PORTS_FIRST: port.optional(),
    FTP_DATA_PORTS_COUNT: z.coerce.number().int().min(0).max(65535).default(0),
    FTP_ACTIVE_MODE: flag.default(true),
    HEALTHCHECK_PORT: port.optional(),
    HEALTHCHECK_HOST: z.string().min(1).default("0.0.0.0"),
    FTP_TLS_CERT_FILE: z.string().min(1).optional(),
    FTP_TLS_KEY_FILE: z.string().min(1).optional(),
    FTP_TLS_REQUIRED: flag.default(true),
    FTP_TLS_SELF_SIGNED: flag.default(false),
    FTP_TLS_SESSION_REUSE: z.enum(["optional", "required"]).default("optional"),
    FTP_TLS_MIN_VERSION: z.enum(["TLSv1.2", "TLSv1.3"]).default("TLSv1.2"),
    FTP_TLS_GROUPS: z
      .string()
      .min(1)
      .optional()
      .refine(
        (groups) => groups === undefined || tlsGroupsAccepted(groups),
        "a colon-separated list of TLS key-exchange groups OpenSSL knows, e.g. X25519MLKEM768:X25519:P-256",
      ),
    FTP_MAX_CONNECTIONS: z.coerce.number().int().positive().default(500),
    FTP_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().positive().default(50),
    FTP_MAX_LINE_BYTES: z.coerce.number().int().min(64).max(65536).default(2048),
    FTP_IDLE_TIMEOUT_SECONDS: seconds.default(300),
    FTP_PASSIVE_TIMEOUT_SECONDS: seconds.default(30),
    FTP_DATA_TIMEOUT_SECONDS: seconds.default(60),
    FTP_LOGIN_MAX_FAILURES: z.coerce.number().int().positive().default(5),
    FTP_LOGIN_FAILURE_WINDOW_SECONDS: seconds.default(3600),
    FTP_LOGIN_LOCKOUT_SECONDS: seconds.default(1800),
    FTP_LOGIN_FAILURE_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
    FTP_RMD_RECURSIVE: flag.default(false),
    FTP_UPLOAD_PART_MIB: z.coerce.number().int().min(5).max(512).default(5),
    FTP_UPLOAD_BUFFERS: z.coerce.number().int().min(1).max(10_000).default(6),
    FTP_UPLOAD_BUFFERS_PER_SESSION: z.coerce.number().int().min(1).max(64).default(4),
    FTP_ABANDONED_UPLOAD_HOURS: z.coerce.number().min(0).default(24),
    FTP_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).default(10),
    FTP_JWT_SECRET: z.string().min(16).optional(),
    FTP_JWT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
    FTP_JWT_JWKS_URL: z.url().optional(),
    FTP_JWT_ALGORITHMS: z.string().default("HS256"),
    FTP_JWT_ISSUER: z.string().optional(),
    FTP_JWT_AUDIENCE: z.string().optional(),
    FTP_JWT_HOME: z.string().default("{user}"),
    SFTP_PORT: port.optional(),
    SFTP_LISTEN_HOST: z.string().min(1).optional(),
    SFTP_HOST_KEY_FILE: z.string().min(1).optional(),
    SFTP_LEGACY_ALGORITHMS: flag.default(false),
    SFTP_LOGIN_TIMEOUT_SECONDS: seconds.default(30),
    SFTP_REORDER_WINDOW_MIB: z.coerce.number().min(0).max(256).default(4),
    PROXY_PROTOCOL: z.enum(["off", "v1", "v2", "any"]).default("off"),
    PROXY_PROTOCOL_TRUSTED: z
      .string()
      .default("")
      .transform((text) =>
        text
          .split(",")
          .map((cidr) => cidr.trim())
          .filter(Boolean),
      )
      .refine(
        (list) =>
          list.every((cidr) => /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$|^[0-9a-fA-F:]+(\/\d{1,3})?$/.test(cidr)),
        "a comma-separated list of IPv4 or IPv6 addresses or CIDRs",
      ),
    WHARF_DEV: z.string().optional(),
    LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  })
  .superRefine((value, ctx) => {
    if (!value.STORAGE_URL && !value.AWS_S3_BUCKET__NAME)
      ctx.addIssue({
        code: "custom",
        path: ["STORAGE_URL"],
        message: "set STORAGE_URL or AWS_S3_BUCKET__NAME",
      });
    if ((value.FTP_TLS_CERT_FILE === undefined) !== (value.FTP_TLS_KEY_FILE === undefined))
      ctx.addIssue({
        code: "custom",
        path: ["FTP_TLS_CERT_FILE"],
        message: "FTP_TLS_CERT_FILE and FTP_TLS_KEY_FILE go together",
      });
    if (value.FTP_DATA_PORTS_COUNT > 0 && value.FTP_DATA_PORTS_FIRST === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["FTP_DATA_PORTS_FIRST"],
        message: "required when FTP_DATA_PORTS_COUNT > 0",
      });
    if (value.SFTP_PORT !== undefined && !value.SFTP_HOST_KEY_FILE && value.WHARF_DEV !== "1")
      ctx.addIssue({
        code: "custom",
        path: ["SFTP_HOST_KEY_FILE"],
        message: "required when SFTP_PORT is set (a generated key is only for dev, WHARF_DEV=1)",
      });
    if (value.PROXY_PROTOCOL !== "off" && value.PROXY_PROTOCOL_TRUSTED.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["PROXY_PROTOCOL_TRUSTED"],
        message: "required when PROXY_PROTOCOL is on: the balancers' addresses, whose headers are believed",
      });
    if ((value.FTP_DATA_PORTS_FIRST ?? 0) + value.FTP_DATA_PORTS_COUNT > 65536)
      ctx.addIssue({ code: "custom", path: ["FTP_DATA_PORTS_COUNT"], message: "range ends above 65535" });
  });

const userSchema = z
  .object({
    LOGIN: z.string().regex(/^[^\s\0]{1,128}$/, "1-128 characters, no spaces"),
    PASSWORD: z.string().min(1).optional(),
    PASSWORD_HASHED: z.string().min(1).optional(),
    PASSWORD_SALT: z.string().min(1).optional(),
    HOME: z
      .string()
      .default("")
      .transform((home) => home.replace(/^\/+|\/+$/g, ""))
      .refine((home) => !home.split("/").some((s) => s === ".." || s === "."), "no . or .. segments"),
    ACCESS: z.enum(["rw", "ro"]).default("rw"),
    AUTHORIZED_KEYS: z
      .string()
      .default("")
      .transform((text, ctx) => {
        const keys = authorizedKeyLines(text);
        for (const problem of keys.problems) ctx.addIssue({ code: "custom", message: problem });
        return keys.lines;
      }),
    KEYS_ONLY: flag.default(false),
  })
  .refine((u) => u.KEYS_ONLY || u.PASSWORD !== undefined || (u.PASSWORD_HASHED && u.PASSWORD_SALT), {
    message: "set PASSWORD, or PASSWORD_HASHED with PASSWORD_SALT (or KEYS_ONLY with AUTHORIZED_KEYS)",
  })
  .refine((u) => !u.KEYS_ONLY || u.AUTHORIZED_KEYS.length > 0, {
    path: ["KEYS_ONLY"],
    message: "needs AUTHORIZED_KEYS",
  });

const cidrSchema = z.object({
  CIDR: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/, "an IPv4 or IPv6 CIDR"),
  DOMAIN: z.string().min(1),
});

/** `PREFIX__<i>__<FIELD>` variables grouped by index, in numeric index order (aioftps3's `__` nesting). */
export function indexedGroups(env: Record<string, string | undefined>, prefix: string) {
  const groups = new Map<string, Record<string, string>>();
  const pattern = new RegExp(`^${prefix}__([^_]+)__(\\w+)$`);
  for (const [name, value] of Object.entries(env)) {
    const match = pattern.exec(name);
    if (!match || value === undefined) continue;
    const group = groups.get(match[1]!) ?? {};
    group[match[2]!] = value;
    groups.set(match[1]!, group);
  }
  return [...groups.entries()].sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b));
}

/** aioftps3's README spells bucket settings with one underscore; its code with two. Accept both. */
function withAliases(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const field of ["NAME", "HOST", "REGION", "DIR_SUFFIX", "VERIFY_CERTS"]) {
    const single = env[`AWS_S3_BUCKET_${field}`];
    if (out[`AWS_S3_BUCKET__${field}`] === undefined && single !== undefined)
      out[`AWS_S3_BUCKET__${field}`] = single;
  }
  for (const [key, value] of Object.entries(out)) if (value === "") delete out[key];
  return out;
}

function storageUrl(c: z.output<typeof schema>): string {
  if (c.STORAGE_URL) return c.STORAGE_URL;
  const params = new URLSearchParams({ forcePathStyle: "true" });
  if (c.AWS_S3_BUCKET__HOST) {
    const scheme = c.AWS_S3_BUCKET__HOST.startsWith("http") ? "" : "https://";
    params.set("endpoint", `${scheme}${c.AWS_S3_BUCKET__HOST}`);
  }
  if (c.AWS_S3_BUCKET__REGION) params.set("region", c.AWS_S3_BUCKET__REGION);
  return `s3://${c.AWS_S3_BUCKET__NAME}?${params}`;
}

/** Parses the environment (aioftps3's names plus Wharf's), reporting every problem at once. */
export function loadConfig(rawEnv: Record<string, string | undefined>) {
  const env = withAliases(rawEnv);
  const problems: string[] = [];
  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      const list = (error as { problems?: string[] }).problems;
      if (!list) throw error;
      problems.push(...list);
      return undefined;
    }
  };
  const base = collect(() => parseConfig(schema, env));
  const users = indexedGroups(env, "FTP_USERS").map(([index, fields]) =>
    collect(() => {
      try {
        return parseConfig(userSchema, fields);
      } catch (error) {
        const list = (error as { problems?: string[] }).problems ?? [];
        throw Object.assign(new Error("user"), {
          problems: list.map((p) => `FTP_USERS__${index}__${p.replace(/^\(config\): /, "")}`),
        });
      }
    }),
  );
  const cidrs = indexedGroups(env, "FTP_DATA_CIDR_TO_DOMAINS").map(([index, fields]) =>
    collect(() => {
      try {
        return parseConfig(cidrSchema, fields);
      } catch (error) {
        const list = (error as { problems?: string[] }).problems ?? [];
        throw Object.assign(new Error("cidr"), {
          problems: list.map((p) => `FTP_DATA_CIDR_TO_DOMAINS__${index}__${p}`),
        });
      }
    }),
  );
  const logins = users.filter((u) => u !== undefined).map((u) => u.LOGIN);
  const duplicate = logins.find((login, i) => logins.indexOf(login) !== i);
  if (duplicate) problems.push(`FTP_USERS: login ${duplicate} is defined twice`);
  if (
    base &&
    logins.length === 0 &&
    !base.FTP_JWT_SECRET &&
    !base.FTP_JWT_PUBLIC_KEY_FILE &&
    !base.FTP_JWT_JWKS_URL
  )
    problems.push("FTP_USERS: define at least one FTP_USERS__<i>__LOGIN, or a FTP_JWT_* key");
  if (base?.STORAGE_URL) {
    try {
      parseStorageUrl(base.STORAGE_URL);
    } catch (error) {
      problems.push(`STORAGE_URL: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0 || !base) {
    throw new ConfigError(problems);
  }
  return toConfig(
    base,
    users.filter((u) => u !== undefined),
    cidrs.filter((c) => c !== undefined).map((c) => ({ cidr: c.CIDR, domain: c.DOMAIN })),
  );
}

function toConfig(c: z.output<typeof schema>, users: z.output<typeof userSchema>[], cidrs: CidrDomain[]) {
  return {
    storageUrl: storageUrl(c),
    // aioftps3 verified only when the value was exactly `true`; its deployments said so explicitly.
    verifyCerts: c.AWS_S3_BUCKET__VERIFY_CERTS === undefined || c.AWS_S3_BUCKET__VERIFY_CERTS === "true",
    caBundle: c.AWS_CA_BUNDLE,
    listFormat: c.FTP_LIST_FORMAT,
    dirSuffix: c.AWS_S3_BUCKET__DIR_SUFFIX,
    host: c.FTP_LISTEN_HOST,
    commandPort: c.FTP_COMMAND_PORT,
    implicitPort: c.FTP_IMPLICIT_PORT,
    passivePorts:
      c.FTP_DATA_PORTS_COUNT > 0
        ? { first: c.FTP_DATA_PORTS_FIRST!, count: c.FTP_DATA_PORTS_COUNT }
        : undefined,
    passiveAddresses: cidrs,
    activeMode: c.FTP_ACTIVE_MODE,
    health:
      c.HEALTHCHECK_PORT === undefined ? undefined : { port: c.HEALTHCHECK_PORT, host: c.HEALTHCHECK_HOST },
    tls: {
      certFile: c.FTP_TLS_CERT_FILE,
      keyFile: c.FTP_TLS_KEY_FILE,
      required: c.FTP_TLS_REQUIRED,
      selfSigned: c.FTP_TLS_SELF_SIGNED,
      sessionReuse: c.FTP_TLS_SESSION_REUSE,
      minVersion: c.FTP_TLS_MIN_VERSION,
      ...(c.FTP_TLS_GROUPS === undefined ? {} : { groups: c.FTP_TLS_GROUPS }),
    },
    limits: {
      maxConnections: c.FTP_MAX_CONNECTIONS,
      maxConnectionsPerIp: c.FTP_MAX_CONNECTIONS_PER_IP,
      maxLineBytes: c.FTP_MAX_LINE_BYTES,
      idleTimeoutMs: c.FTP_IDLE_TIMEOUT_SECONDS * 1000,
      passiveTimeoutMs: c.FTP_PASSIVE_TIMEOUT_SECONDS * 1000,
      dataTimeoutMs: c.FTP_DATA_TIMEOUT_SECONDS * 1000,
    },
    login: {
      maxFailures: c.FTP_LOGIN_MAX_FAILURES,
      windowMs: c.FTP_LOGIN_FAILURE_WINDOW_SECONDS * 1000,
      lockoutMs: c.FTP_LOGIN_LOCKOUT_SECONDS * 1000,
      failureDelayMs: c.FTP_LOGIN_FAILURE_DELAY_MS,
    },
    rmdRecursive: c.FTP_RMD_RECURSIVE,
    uploads: {
      partBytes: c.FTP_UPLOAD_PART_MIB * 1024 * 1024,
      buffers: c.FTP_UPLOAD_BUFFERS,
      buffersPerSession: Math.min(c.FTP_UPLOAD_BUFFERS_PER_SESSION, c.FTP_UPLOAD_BUFFERS),
      abandonedAfterMs: c.FTP_ABANDONED_UPLOAD_HOURS * 3600 * 1000,
    },
    shutdownGraceMs: c.FTP_SHUTDOWN_GRACE_SECONDS * 1000,
    users: users.map(
      (u): UserConfig => ({
        login: u.LOGIN,
        password: u.PASSWORD,
        passwordHashed: u.PASSWORD_HASHED,
        passwordSalt: u.PASSWORD_SALT,
        home: u.HOME,
        access: u.ACCESS,
        authorizedKeys: u.AUTHORIZED_KEYS,
        keysOnly: u.KEYS_ONLY,
      }),
    ),
    jwt:
      c.FTP_JWT_SECRET || c.FTP_JWT_PUBLIC_KEY_FILE || c.FTP_JWT_JWKS_URL
        ? {
            secret: c.FTP_JWT_SECRET,
            publicKeyFile: c.FTP_JWT_PUBLIC_KEY_FILE,
            jwksUrl: c.FTP_JWT_JWKS_URL,
            algorithms: c.FTP_JWT_ALGORITHMS.split(",").map((a) => a.trim()),
            issuer: c.FTP_JWT_ISSUER,
            audience: c.FTP_JWT_AUDIENCE,
            home: c.FTP_JWT_HOME,
          }
        : undefined,
    sftp:
      c.SFTP_PORT === undefined
        ? undefined
        : {
            port: c.SFTP_PORT,
            host: c.SFTP_LISTEN_HOST ?? c.FTP_LISTEN_HOST,
            hostKeyFiles: (c.SFTP_HOST_KEY_FILE ?? "")
              .split(",")
              .map((path) => path.trim())
              .filter(Boolean),
            legacyAlgorithms: c.SFTP_LEGACY_ALGORITHMS,
            loginTimeoutMs: c.SFTP_LOGIN_TIMEOUT_SECONDS * 1000,
            reorderWindowBytes: c.SFTP_REORDER_WINDOW_MIB * 1024 * 1024,
          },
    proxyProtocol: {
      versions: ({ off: [], v1: [1], v2: [2], any: [1, 2] } as const)[c.PROXY_PROTOCOL],
      trusted: c.PROXY_PROTOCOL_TRUSTED,
    },
    logLevel: c.LOG_LEVEL,
  };
}

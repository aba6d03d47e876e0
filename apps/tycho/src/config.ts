import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { WharfError } from "@wharf/errors";
import { z } from "zod";
import { defaultTransfer, type TransferSettings } from "./registry/transfer.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the registry lives, in the terms `openStorage` understands. */
export interface StorageSpec {
  /** A Wharf storage URL: `file:///abs`, a plain path, or `s3://bucket/prefix/?endpoint=…&region=…`. */
  readonly url: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** For messages: never holds a secret. */
  readonly describe: string;
  /** Nothing named a registry: the default folder is used (the CLI says so). */
  readonly isDefault?: boolean;
  /** https endpoints: a CA bundle file to trust instead of the system's, or no certificate check. */
  readonly tls?: { readonly caFile: string } | { readonly insecure: true };
}

export interface TychoConfig {
  readonly outdir: string;
  readonly storage: StorageSpec;
  readonly transfer: TransferSettings;
  readonly user: string;
  readonly claimStaleAfterMs: number;
  /** Settings of the original that tycho accepts but ignores, one line each. */
  readonly warnings: readonly string[];
}

export interface ConfigInput {
  /** The parsed config file, or undefined when there is none (defaults apply, as in tychoreg). */
  readonly file: unknown;
  /** Where the file was looked for, for messages. */
  readonly path: string;
  /** process.env merged with the dotenv file (process.env wins, as python-dotenv does). */
  readonly env: Env;
  readonly cwd: string;
  /** `user@host` when TYCHO_USER is not set. */
  readonly defaultUser: string;
}

const envRef = z.object({ env: z.string().min(1), default: z.unknown().optional() }).strict();
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const value = z.union([scalar, envRef]);
const section = z.record(z.string(), value);
const fileSchema = z
  .object({ tycho: section.optional(), s3: section.optional(), local: section.optional() })
  .catchall(z.unknown());

const mib = 1024 * 1024;
const tychoSchema = z.object({
  backend: z.enum(["s3", "local"]).optional(),
  outdir: z.string().min(1).default("tycho_packages"),
  dotenv: z.string().optional(),
  storage: z.string().min(1).optional(),
  concurrency: z.coerce.number().int().min(1).max(64).default(defaultTransfer.concurrency),
  part_size_mb: z.coerce.number().int().min(5).max(5120).optional(),
  claim_stale_after_minutes: z.coerce.number().positive().default(60),
});
const tychoKnown = new Set(Object.keys(tychoSchema.shape));
const bool = z.union([z.boolean(), z.enum(["true", "false"]).transform((text) => text === "true")]);

const s3Schema = z.object({
  bucket: z.string().min(1, "is required"),
  region_name: z.string().min(1).optional(),
  endpoint_url: z.string().url().optional(),
  aws_access_key_id: z.string().min(1).optional(),
  aws_secret_access_key: z.string().min(1).optional(),
  aws_session_token: z.string().min(1).optional(),
  prefix: z.string().optional(),
  force_path_style: bool.optional(),
  // boto3's `verify`: false (no certificate check) or the path of a CA bundle.
  verify: z.union([bool, z.string().min(1)]).optional(),
});
const s3Known = new Set(Object.keys(s3Schema.shape));
const localSchema = z.object({ path: z.string().min(1).optional() }).strict();

/** boto3 client arguments that have no meaning here; accepted so tychoreg configs keep working. */
const ignoredBoto3 = new Set(["use_ssl", "api_version", "config", "aws_account_id", "service_name"]);

/** `{"env": "VAR", "default": …}` → the variable's value, else the default (one level deep). */
function resolveValues(values: Record<string, unknown> | undefined, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(values ?? {})) {
    const ref = envRef.safeParse(raw);
    const resolved = ref.success ? (env[ref.data.env] ?? ref.data.default) : raw;
    if (resolved !== undefined && resolved !== null) out[key] = resolved;
  }
  return out;
}

function problemsOf(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => `${[prefix, ...issue.path].join(".")}: ${issue.message}`);
}

/**
 * The tychoreg config file (`tycho`, `s3` sections, `{"env", "default"}` values) plus Wharf's
 * additions (`tycho.storage`, `local.path`, `TYCHO_STORAGE_URL`), validated with every problem
 * reported at once as one `INVALID_ARGUMENT`.
 */
export function loadConfig(input: ConfigInput): TychoConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const file = fileSchema.safeParse(input.file ?? {});
  if (!file.success)
    throw configError(
      input.path,
      problemsOf("", file.error).map((p) => p.replace(/^\./, "")),
    );
  const tychoRaw = resolveValues(file.data.tycho, input.env);
  for (const key of Object.keys(tychoRaw).filter((key) => !tychoKnown.has(key)))
    warnings.push(`tycho.${key} is not understood and is ignored`);
  const tycho = tychoSchema.safeParse(tychoRaw);
  if (!tycho.success) problems.push(...problemsOf("tycho", tycho.error));

  const envUrl = input.env.TYCHO_STORAGE_URL;
  const backend = tycho.data?.backend ?? (file.data.s3 ? "s3" : "local");
  let storage: StorageSpec | undefined;
  const caBundle = input.env.AWS_CA_BUNDLE
    ? { caFile: resolve(input.cwd, input.env.AWS_CA_BUNDLE) }
    : undefined;
  if (envUrl) storage = { url: envUrl, describe: envUrl, ...(caBundle ? { tls: caBundle } : {}) };
  else if (tycho.data?.storage) storage = { url: tycho.data.storage, describe: tycho.data.storage };
  else if (backend === "s3") {
    const raw = resolveValues(file.data.s3, input.env);
    for (const key of Object.keys(raw).filter((key) => !s3Known.has(key)))
      warnings.push(
        ignoredBoto3.has(key)
          ? `s3.${key} is ignored by tycho`
          : `s3.${key} is not understood and is ignored`,
      );
    const s3 = s3Schema.safeParse(
      Object.fromEntries(Object.entries(raw).filter(([key]) => s3Known.has(key))),
    );
    if (!s3.success) problems.push(...problemsOf("s3", s3.error));
    else storage = s3Storage(s3.data, problems, tlsOf(s3.data.verify, caBundle, input.cwd, warnings));
  } else {
    const local = localSchema.safeParse(resolveValues(file.data.local, input.env));
    if (!local.success) problems.push(...problemsOf("local", local.error));
    else {
      const dataHome = input.env.XDG_DATA_HOME || join(input.env.HOME || homedir(), ".local", "share");
      const root = resolve(input.cwd, local.data.path ?? join(dataHome, "tycho"));
      const isDefault = local.data.path === undefined;
      storage = { url: root, describe: root, ...(isDefault ? { isDefault } : {}) };
    }
  }
  if (problems.length > 0 || !tycho.success || !storage) throw configError(input.path, problems);
  return {
    outdir: tycho.data.outdir,
    storage,
    transfer: transferSettings(tycho.data),
    user: input.env.TYCHO_USER || input.defaultUser,
    claimStaleAfterMs: tycho.data.claim_stale_after_minutes * 60_000,
    warnings,
  };
}

/** `part_size_mb`, when set, sizes uploads and downloads alike (as in tychoreg). */
function transferSettings(tycho: {
  concurrency: number;
  part_size_mb?: number | undefined;
}): TransferSettings {
  const set =
    tycho.part_size_mb === undefined
      ? {}
      : { partSize: tycho.part_size_mb * mib, rangeSize: tycho.part_size_mb * mib };
  return { ...defaultTransfer, concurrency: tycho.concurrency, ...set };
}

/**
 * boto3's rules: `verify: false` checks no certificate (with a loud warning), `verify: "ca.pem"`
 * trusts that bundle, else `AWS_CA_BUNDLE`, else the system's CAs.
 */
function tlsOf(
  verify: boolean | string | undefined,
  caBundle: { caFile: string } | undefined,
  cwd: string,
  warnings: string[],
): StorageSpec["tls"] {
  if (verify === false) {
    warnings.push(
      's3.verify is false: the endpoint\'s TLS certificate is NOT checked, so anyone on the network path can read or change packages and credentials. Trust its CA instead: s3.verify: "/path/ca.pem" or AWS_CA_BUNDLE',
    );
    return { insecure: true };
  }
  if (typeof verify === "string") return { caFile: resolve(cwd, verify) };
  return caBundle;
}

function s3Storage(
  s3: z.output<typeof s3Schema>,
  problems: string[],
  tls: StorageSpec["tls"],
): StorageSpec | undefined {
  const params = new URLSearchParams();
  if (s3.endpoint_url) params.set("endpoint", new URL(s3.endpoint_url).origin);
  if (s3.region_name) params.set("region", s3.region_name);
  if (s3.force_path_style !== undefined) params.set("forcePathStyle", String(s3.force_path_style));
  const prefix = s3.prefix ? `${s3.prefix.replace(/^\/+|\/+$/g, "")}/` : "";
  const query = params.size > 0 ? `?${params}` : "";
  const url = `s3://${s3.bucket}/${prefix}${query}`;
  const { aws_access_key_id: id, aws_secret_access_key: secret, aws_session_token: token } = s3;
  if ((id === undefined) !== (secret === undefined)) {
    problems.push("s3: aws_access_key_id and aws_secret_access_key must be given together");
    return undefined;
  }
  const credentials =
    id && secret
      ? { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) }
      : undefined;
  return { url, describe: url, ...(credentials ? { credentials } : {}), ...(tls ? { tls } : {}) };
}

function configError(path: string, problems: readonly string[]): WharfError {
  return new WharfError("INVALID_ARGUMENT", `Invalid config ${path}: ${problems.join("; ")}`, {
    details: { problems },
  });
}

/** Parses the text of a config file; `INVALID_ARGUMENT` naming the file when it is not JSON. */
export function parseConfigText(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WharfError(
      "INVALID_ARGUMENT",
      `Invalid config ${path}: not valid JSON (${(cause as Error).message})`,
      {
        cause,
      },
    );
  }
}

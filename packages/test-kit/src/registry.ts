import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WharfError } from "@wharf/errors";
import type { OciLayout } from "./oci.ts";
import { freePortBlock, runInfraScript } from "./scripts.ts";

export interface SkopeoCopyOptions {
  /** The layout directory, or what `buildOciLayout` returned. */
  layout: string | OciLayout;
  /** Ref name inside the layout. */
  ref: string;
  /** `host:port` of the registry (plain HTTP). */
  registry: string;
  repository: string;
  tag: string;
  /** Copy every platform of an index (default true; harmless for a single manifest). */
  all?: boolean;
  /** "v2s2" converts to Docker schema 2 (or a manifest list); digests then change. Default: keep OCI. */
  format?: "oci" | "v2s2";
  creds?: { username: string; password: string };
}

/**
 * skopeo reads (and with `login`, writes) credentials from REGISTRY_AUTH_FILE; pointing it at a path
 * that does not exist keeps it away from the user's credentials without leaving a file behind.
 */
const noAuthFile = join(tmpdir(), "wharf-skopeo-no-auth", "auth.json");

/**
 * Pushes one ref of an OCI layout to a registry with `skopeo copy` (real-services.md §3), keeping
 * digests unless a `format` conversion is asked for. Rejects with `UNAVAILABLE` carrying skopeo's
 * stderr.
 */
export async function skopeoCopy(options: SkopeoCopyOptions): Promise<void> {
  const layout = typeof options.layout === "string" ? options.layout : options.layout.path;
  const args = ["copy", "--dest-tls-verify=false", "--retry-times=0"];
  if (options.all !== false) args.push("--all");
  if (options.format === "v2s2") args.push("--format", "v2s2");
  else args.push("--preserve-digests");
  if (options.creds) args.push("--dest-creds", `${options.creds.username}:${options.creds.password}`);
  args.push(
    `oci:${layout}:${options.ref}`,
    `docker://${options.registry}/${options.repository}:${options.tag}`,
  );
  const env = { ...process.env, REGISTRY_AUTH_FILE: noAuthFile };
  await new Promise<void>((resolve, reject) => {
    execFile("skopeo", args, { env, maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
      if (!error) resolve();
      else
        reject(
          new WharfError(
            "UNAVAILABLE",
            `skopeo copy ${options.ref} -> ${options.repository}:${options.tag} failed`,
            {
              cause: error,
              details: { stderr: String(stderr).replace(/--dest-creds \S+/g, "--dest-creds ***") },
            },
          ),
        );
    });
  });
}

export interface StartRegistryOptions {
  /** Default "htpasswd" (the shared registry from `registryEnv()` already covers "none"). */
  auth?: "none" | "htpasswd" | "token";
  /** htpasswd users, name → password. Default: one random "admin" user. */
  users?: Record<string, string>;
  /** Token auth (GitLab-style): the issuer's realm URL and the PEM bundle that verifies its tokens. */
  token?: { realm: string; certPath: string; issuer?: string; service?: string };
}

export interface StartedRegistry extends AsyncDisposable {
  url: string;
  host: string;
  /** The first htpasswd user. */
  user?: string;
  password?: string;
}

/**
 * Starts a private docker-registry for one suite (0.1 s), for the auth variants the shared
 * registry does not have. Disposing stops it and removes its data.
 *
 * @example
 * await using registry = await startRegistry({ users: { admin: "s3cret" } });
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<StartedRegistry> {
  const auth = options.auth ?? "htpasswd";
  const data = await mkdtemp(join(tmpdir(), "wharf-registry-"));
  const env: Record<string, string | undefined> = { WHARF_REGISTRY_AUTH: auth };
  if (options.users)
    env.WHARF_REGISTRY_USERS = Object.entries(options.users)
      .map(([user, password]) => `${user}:${password}`)
      .join(" ");
  if (options.token) {
    env.WHARF_REGISTRY_TOKEN_REALM = options.token.realm;
    env.WHARF_REGISTRY_TOKEN_CERT = options.token.certPath;
    env.WHARF_REGISTRY_TOKEN_ISSUER = options.token.issuer;
    env.WHARF_REGISTRY_TOKEN_SERVICE = options.token.service;
  }
  const dispose = async () => {
    await runInfraScript("registry/stop.sh", [data, "--wipe"]).catch(() => undefined);
    await rm(data, { recursive: true, force: true });
  };
  try {
    let vars: Record<string, string> | undefined;
    for (let attempt = 1; !vars; attempt++) {
      try {
        ({ vars } = await runInfraScript("registry/start.sh", [String(await freePortBlock(1)), data], env));
      } catch (error) {
        if (attempt >= 3 || !(error instanceof WharfError && /already in use/.test(error.message)))
          throw error;
      }
    }
    const url = vars.WHARF_REGISTRY_URL!;
    return {
      url,
      host: new URL(url).host,
      ...(vars.WHARF_REGISTRY_USER && {
        user: vars.WHARF_REGISTRY_USER,
        password: vars.WHARF_REGISTRY_PASSWORD,
      }),
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

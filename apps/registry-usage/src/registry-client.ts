import { createHash } from "node:crypto";
import { WharfError } from "@wharf/errors";
import { createLimiter } from "./limit.ts";
import { type ManifestRecord, manifestAccept, parseManifest } from "./manifest.ts";
import { createTokenSource, parseChallenge } from "./registry-auth.ts";

export interface RegistryClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:5000` (a trailing slash is fine). */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Used as the token realm when a Bearer challenge names none (GitLab: `<gitlab>/jwt/auth`). */
  readonly gitlabUrl?: string;
  /** Registry requests in flight at most. */
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

/** Requests made, by kind: what the benchmarks and the incremental tests count. */
export interface RequestCounts {
  catalog: number;
  tags: number;
  manifestHead: number;
  manifestGet: number;
  blobHead: number;
  auth: number;
}

export const emptyCounts = (): RequestCounts => ({
  catalog: 0,
  tags: 0,
  manifestHead: 0,
  manifestGet: 0,
  blobHead: 0,
  auth: 0,
});

export interface ManifestHead {
  readonly digest: string;
  readonly mediaType: string;
}

export interface FetchedManifest extends ManifestHead {
  readonly record: ManifestRecord;
}

type Kind = Exclude<keyof RequestCounts, "auth">;

export type RegistryClient = ReturnType<typeof createRegistryClient>;

/**
 * A Docker Registry HTTP API v2 / OCI distribution client for what a size scan needs: catalog and
 * tag lists (following `Link: rel="next"`), manifests of every kind, blob sizes. Authenticates as
 * the registry asks: none, Basic, or the Bearer token realm flow. Every failure is a WharfError:
 * `NOT_FOUND` (404), `UNAUTHENTICATED` (credentials refused), `UNAVAILABLE` (network, 5xx, other).
 */
export function createRegistryClient(options: RegistryClientOptions) {
  const base = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const limit = createLimiter(options.concurrency);
  const counts = emptyCounts();
  const hasCredentials = options.username !== undefined && options.password !== undefined;
  const tokens = createTokenSource({
    ...(hasCredentials ? { username: options.username, password: options.password } : {}),
    timeoutMs: options.timeoutMs,
    fetch: doFetch,
    now,
    onRequest: () => counts.auth++,
  });
  let scheme: "none" | "basic" | "bearer" = "none";
  let bearer: { realm: string; service?: string } | undefined;

  async function authorization(scope: string, force = false): Promise<string | undefined> {
    if (scheme === "basic") {
      return `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;
    }
    if (scheme === "bearer" && bearer)
      return `Bearer ${await tokens.token(bearer.realm, bearer.service, scope, force)}`;
    return undefined;
  }

  function learn(header: string | null): boolean {
    const challenge = parseChallenge(header);
    if (challenge?.scheme === "basic" && hasCredentials && scheme !== "basic") {
      scheme = "basic";
      return true;
    }
    if (challenge?.scheme === "bearer") {
      const realm =
        challenge.params.realm ?? (options.gitlabUrl ? `${options.gitlabUrl}/jwt/auth` : undefined);
      if (!realm) return false;
      const first = scheme !== "bearer" || bearer?.realm !== realm;
      bearer = challenge.params.service ? { realm, service: challenge.params.service } : { realm };
      scheme = "bearer";
      return first;
    }
    return false;
  }

  async function send(
    kind: Kind,
    path: string,
    scope: string,
    init: { method?: string; accept?: string; redirect?: "follow" | "manual" } = {},
  ): Promise<Response> {
    return limit(async () => {
      for (let attempt = 0; ; attempt++) {
        const headers: Record<string, string> = {};
        if (init.accept) headers.accept = init.accept;
        const auth = await authorization(scope, attempt > 0 && scheme === "bearer");
        if (auth) headers.authorization = auth;
        counts[kind]++;
        let response: Response;
        try {
          response = await doFetch(path.startsWith("http") ? path : `${base}${path}`, {
            method: init.method ?? "GET",
            headers,
            redirect: init.redirect ?? "follow",
            signal: AbortSignal.timeout(options.timeoutMs),
          });
        } catch (cause) {
          throw new WharfError("UNAVAILABLE", `registry ${base} unreachable`, { cause });
        }
        if (response.status !== 401) return response;
        await response.body?.cancel();
        const learned = learn(response.headers.get("www-authenticate"));
        if (attempt === 0 && (learned || scheme === "bearer")) continue;
        throw new WharfError("UNAUTHENTICATED", `registry ${base} refused access (${scope})`, {
          details: { status: 401 },
        });
      }
    });
  }

  async function check(response: Response, what: string): Promise<Response> {
    if (response.ok) return response;
    await response.body?.cancel();
    if (response.status === 404) throw new WharfError("NOT_FOUND", `${what}: not found`);
    if (response.status === 403) throw new WharfError("PERMISSION_DENIED", `${what}: forbidden`);
    throw new WharfError("UNAVAILABLE", `${what}: registry answered ${response.status}`, {
      details: { status: response.status },
    });
  }

  async function json<T>(response: Response, what: string): Promise<T> {
    try {
      return (await response.json()) as T;
    } catch (cause) {
      throw new WharfError("UNAVAILABLE", `${what}: registry sent no JSON`, { cause });
    }
  }

  function nextLink(response: Response): string | undefined {
    const link = response.headers.get("link");
    const match = link && /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link);
    return match ? new URL(match[1]!, `${base}/`).toString() : undefined;
  }

  const repoScope = (repo: string) => `repository:${repo}:pull`;

  return {
    counts,
    /** Every repository name, page by page (`n`, `last`, `Link`). */
    async catalog(pageSize: number): Promise<string[]> {
      const names: string[] = [];
      let url: string | undefined = `/v2/_catalog?n=${pageSize}`;
      while (url) {
        const response = await check(await send("catalog", url, "registry:catalog:*"), "catalog");
        const page = await json<{ repositories?: string[] | null }>(response, "catalog");
        const repos = page.repositories ?? [];
        names.push(...repos);
        url = repos.length > 0 ? nextLink(response) : undefined;
      }
      return names;
    },

    /** Every tag of `repo` (`"tags": null` is an empty list). `NOT_FOUND` for an unknown repo. */
    async tags(repo: string): Promise<string[]> {
      const tags: string[] = [];
      let url: string | undefined = `/v2/${repo}/tags/list`;
      while (url) {
        const response = await check(await send("tags", url, repoScope(repo)), `tags of ${repo}`);
        const page = await json<{ tags?: string[] | null }>(response, `tags of ${repo}`);
        const list = page.tags ?? [];
        tags.push(...list);
        url = list.length > 0 ? nextLink(response) : undefined;
      }
      return [...new Set(tags)];
    },

    /** The digest and media type a reference points at, or `undefined` when it is gone. */
    async headManifest(repo: string, reference: string): Promise<ManifestHead | undefined> {
      const response = await send("manifestHead", `/v2/${repo}/manifests/${reference}`, repoScope(repo), {
        method: "HEAD",
        accept: manifestAccept,
      });
      if (response.status === 404) return undefined;
      await check(response, `manifest ${repo}:${reference}`);
      const digest = response.headers.get("docker-content-digest");
      if (!digest) return undefined;
      return { digest, mediaType: response.headers.get("content-type") ?? "" };
    },

    /** A manifest, parsed; its digest checked when the reference is a digest. */
    async getManifest(repo: string, reference: string): Promise<FetchedManifest | undefined> {
      const what = `manifest ${repo}@${reference}`;
      const response = await send("manifestGet", `/v2/${repo}/manifests/${reference}`, repoScope(repo), {
        accept: manifestAccept,
      });
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      await check(response, what);
      const bytes = Buffer.from(await response.arrayBuffer());
      const computed = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      const digest = reference.includes(":")
        ? reference
        : (response.headers.get("docker-content-digest") ?? computed);
      const mediaType = response.headers.get("content-type");
      let record: ManifestRecord;
      try {
        record = parseManifest(bytes.toString("utf8"), mediaType);
      } catch (cause) {
        throw new WharfError("UNAVAILABLE", `${what}: unreadable manifest`, { cause });
      }
      // A signed schema-1 digest covers the payload without its signatures: not checkable here.
      if (record.kind !== "schema1" && digest.startsWith("sha256:") && digest !== computed) {
        throw new WharfError("UNAVAILABLE", `${what}: body does not match its digest`);
      }
      return { digest, mediaType: record.mediaType, record };
    },

    /** A blob's size from `HEAD`; a redirect (S3) is followed once without our credentials. */
    async blobSize(repo: string, digest: string): Promise<number> {
      const what = `blob ${repo}@${digest}`;
      let response = await send("blobHead", `/v2/${repo}/blobs/${digest}`, repoScope(repo), {
        method: "HEAD",
        redirect: "manual",
      });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        counts.blobHead++;
        try {
          response = await doFetch(new URL(location, `${base}/`), {
            method: "HEAD",
            signal: AbortSignal.timeout(options.timeoutMs),
          });
        } catch (cause) {
          throw new WharfError("UNAVAILABLE", `${what}: redirect target unreachable`, { cause });
        }
      }
      await check(response, what);
      const size = Number(response.headers.get("content-length"));
      if (!Number.isSafeInteger(size) || size < 0)
        throw new WharfError("UNAVAILABLE", `${what}: no Content-Length`);
      return size;
    },
  };
}

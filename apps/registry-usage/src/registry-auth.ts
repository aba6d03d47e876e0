import { WharfError } from "@wharf/errors";

/** A parsed `WWW-Authenticate` challenge: scheme plus its auth-params. */
export interface AuthChallenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses the first challenge of a `WWW-Authenticate` header (RFC 7235 auth-params). */
export function parseChallenge(header: string | null): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const pattern = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/g;
  for (const [, key, quoted, token] of (match[2] ?? "").matchAll(pattern)) {
    params[key!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (token ?? "");
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export interface TokenSourceOptions {
  readonly username?: string;
  readonly password?: string;
  readonly timeoutMs: number;
  readonly fetch: typeof fetch;
  readonly now: () => number;
  /** Called once per token request, for the request counters. */
  readonly onRequest?: () => void;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * The distribution token flow (also GitLab's `/jwt/auth`): asks the realm for a Bearer token per
 * scope with HTTP Basic credentials (or anonymously), and caches each token until shortly before
 * it expires.
 */
export function createTokenSource(options: TokenSourceOptions) {
  const cache = new Map<string, CachedToken>();
  const pending = new Map<string, Promise<string>>();

  async function request(realm: string, service: string | undefined, scope: string): Promise<string> {
    const url = new URL(realm);
    if (service) url.searchParams.set("service", service);
    url.searchParams.set("scope", scope);
    url.searchParams.set("client_id", "docker");
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.username !== undefined && options.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;
    }
    options.onRequest?.();
    let response: Response;
    try {
      response = await options.fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (cause) {
      throw new WharfError("UNAVAILABLE", `token realm ${url.origin} unreachable`, { cause });
    }
    if (response.status === 401 || response.status === 403) {
      throw new WharfError("UNAUTHENTICATED", `token realm ${url.origin} refused the registry credentials`, {
        details: { status: response.status },
      });
    }
    if (!response.ok) {
      throw new WharfError("UNAVAILABLE", `token realm ${url.origin} answered ${response.status}`);
    }
    const body = (await response.json().catch(() => ({}))) as {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
    };
    const token = typeof body.token === "string" ? body.token : body.access_token;
    if (typeof token !== "string" || token === "") {
      throw new WharfError("UNAVAILABLE", `token realm ${url.origin} sent no token`);
    }
    const lifetime = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60;
    cache.set(`${realm} ${scope}`, { token, expiresAt: options.now() + Math.max(lifetime - 15, 5) * 1000 });
    return token;
  }

  return {
    /** A valid token for `scope`, fetched once and shared by concurrent callers. */
    async token(realm: string, service: string | undefined, scope: string, force = false): Promise<string> {
      const key = `${realm} ${scope}`;
      const cached = cache.get(key);
      if (!force && cached && cached.expiresAt > options.now()) return cached.token;
      let inFlight = pending.get(key);
      if (!inFlight) {
        inFlight = request(realm, service, scope).finally(() => pending.delete(key));
        pending.set(key, inFlight);
      }
      return inFlight;
    },
  };
}

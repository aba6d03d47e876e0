import { isWharfError } from "@wharf/errors";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { at, ecPair, startJwksServer } from "../test/fixtures.ts";
import { createIssuer } from "./issuer.ts";
import {
  type AuthEnv,
  authErrorHeaders,
  type JwtAuthOptions,
  jwtAuth,
  unauthorizedResponse,
} from "./middleware.ts";
import { can } from "./permissions.ts";
import { createVerifier } from "./verifier.ts";

const secret = "middleware-test-secret";
const issuer = createIssuer({ algorithm: "HS256", secret, now: at(0) });
const verifier = createVerifier({ algorithms: ["HS256"], secret, now: at(60) });
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const lfsChallenge = {
  scheme: "Basic",
  realm: "wharf lfs",
  extraHeaders: { "LFS-Authenticate": 'Basic realm="wharf lfs"' },
} as const;

/** An app shaped like the Wharf apps: one onError table, challenge headers from authErrorHeaders. */
function appWith(options: Partial<JwtAuthOptions>) {
  const app = new Hono<AuthEnv>();
  app.use(jwtAuth({ verifier, sources: ["basic", "bearer"], challenge: lfsChallenge, ...options }));
  app.get("/:org/:repo", (c) => {
    const principal = c.get("principal");
    const resource = `${c.req.param("org")}/${c.req.param("repo")}`;
    return c.json({
      principal: principal && {
        subject: principal.subject,
        username: principal.username,
        source: principal.source,
      },
      canWrite: principal ? can(principal.scopes, resource, "write") : false,
    });
  });
  app.post("/form", async (c) =>
    c.json({ body: await c.req.parseBody(), subject: c.get("principal")?.subject }),
  );
  app.onError((error, c) => {
    const status = isWharfError(error, "UNAUTHENTICATED")
      ? 401
      : isWharfError(error, "UNAVAILABLE")
        ? 503
        : 500;
    const code = isWharfError(error) ? error.code : "INTERNAL";
    const reason = isWharfError(error) ? error.details?.reason : undefined;
    return c.json({ message: error.message, code, reason }, status, authErrorHeaders(error));
  });
  return app;
}

describe("jwtAuth", () => {
  it("sets the principal from Basic credentials whose user matches the username claim (timone)", async () => {
    const token = await issuer.issue({ username: "bob", scope: "org/repo:write" }, { expiresIn: "1h" });
    const app = appWith({ usernameClaim: "username" });
    const response = await app.request("/org/repo", { headers: { authorization: basic("bob", token) } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      principal: { subject: "bob", username: "bob", source: "basic" },
      canWrite: true,
    });
  });

  it("never reports an unchecked Basic user name when no usernameClaim is configured", async () => {
    const token = await issuer.issue({ sub: "u1" }, { expiresIn: "1h" });
    const response = await appWith({}).request("/org/repo", {
      headers: { authorization: basic("admin", token) },
    });
    expect(await response.json()).toEqual({ principal: { subject: "u1", source: "basic" }, canWrite: false });
  });

  it("answers 401 with WWW-Authenticate and LFS-Authenticate when credentials are missing", async () => {
    const response = await appWith({}).request("/org/repo");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Basic realm="wharf lfs"');
    expect(response.headers.get("lfs-authenticate")).toBe('Basic realm="wharf lfs"');
    expect(await response.json()).toMatchObject({ code: "UNAUTHENTICATED", reason: "missing" });
  });

  it("refuses a Basic user that differs from the token's username claim", async () => {
    const token = await issuer.issue({ username: "bob" }, { expiresIn: "1h" });
    const response = await appWith({ usernameClaim: "username" }).request("/org/repo", {
      headers: { authorization: basic("alice", token) },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "UNAUTHENTICATED", reason: "claim_mismatch" });
  });

  it("refuses a token without the username claim when one is required", async () => {
    const token = await issuer.issue({ sub: "bob" }, { expiresIn: "1h" });
    const response = await appWith({ usernameClaim: "username" }).request("/org/repo", {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await response.json()).toMatchObject({ reason: "claim_missing" });
  });

  it("marks a refused Bearer token with error=invalid_token in the challenge", async () => {
    const token = await createIssuer({ algorithm: "HS256", secret, now: at(-7200) }).issue(
      {},
      { expiresIn: "1h" },
    );
    const app = appWith({ challenge: { scheme: "Bearer", realm: "registry-usage" } });
    const response = await app.request("/org/repo", { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      'Bearer realm="registry-usage", error="invalid_token"',
    );
    expect(await response.json()).toMatchObject({ reason: "expired" });
  });

  // Regression: a malformed Bearer token got error="invalid_request"; RFC 6750 and the README say invalid_token.
  it("marks a malformed Bearer token invalid_token and another scheme invalid_request", async () => {
    const app = appWith({ challenge: { scheme: "Bearer", realm: "registry-usage" } });
    const challenge = async (authorization: string) =>
      (await app.request("/org/repo", { headers: { authorization } })).headers.get("www-authenticate");
    expect(await challenge("Bearer not.a.token")).toBe(
      'Bearer realm="registry-usage", error="invalid_token"',
    );
    expect(await challenge("Bearer two words")).toBe('Bearer realm="registry-usage", error="invalid_token"');
    expect(await challenge("Digest x=1")).toBe('Bearer realm="registry-usage", error="invalid_request"');
  });

  it("lets anonymous requests through when optional, but still refuses bad credentials", async () => {
    const app = appWith({ optional: true });
    const anonymous = await app.request("/org/repo");
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ canWrite: false });
    const bad = await app.request("/org/repo", { headers: { authorization: "Bearer not.a.token" } });
    expect(bad.status).toBe(401);
  });

  it("reads a jwt form field and leaves the body readable for the handler (bitstore)", async () => {
    const token = await issuer.issue({ sub: "u1" }, { expiresIn: "1h" });
    const app = appWith({ sources: ["header:Auth-Token", "query:jwt", "form:jwt"] });
    const response = await app.request("/form", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ jwt: token, other: "x" }).toString(),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ body: { jwt: token, other: "x" }, subject: "u1" });
  });

  it("reads the Auth-Token header and the jwt query parameter", async () => {
    const token = await issuer.issue({ sub: "u1" }, { expiresIn: "1h" });
    const app = appWith({ sources: ["header:Auth-Token", "query:jwt"] });
    expect((await app.request("/org/repo", { headers: { "auth-token": token } })).status).toBe(200);
    expect((await app.request(`/org/repo?jwt=${token}`)).status).toBe(200);
  });

  it("answers itself with unauthorizedResponse as onError: 401 JSON { message } and the challenge", async () => {
    const app = appWith({ onError: unauthorizedResponse });
    const response = await app.request("/org/repo", { headers: { authorization: "Bearer" } });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Basic realm="wharf lfs"');
    expect(Object.keys((await response.json()) as object)).toEqual(["message"]);
  });

  it("leaves the refusal in c.error when it answers itself, so a request log can say why", async () => {
    const app = new Hono<AuthEnv>();
    const seen: unknown[] = [];
    app.use(async (c, next) => {
      await next();
      seen.push(c.error && isWharfError(c.error) ? c.error.details?.reason : undefined);
    });
    app.use(
      jwtAuth({ verifier, sources: ["bearer"], challenge: lfsChallenge, onError: unauthorizedResponse }),
    );
    app.get("/x", (c) => c.text("ok"));
    const expired = await createIssuer({ algorithm: "HS256", secret, now: at(-7200) }).issue(
      { sub: "u1" },
      { expiresIn: "1h" },
    );
    expect((await app.request("/x", { headers: { authorization: `Bearer ${expired}` } })).status).toBe(401);
    expect((await app.request("/x")).status).toBe(401);
    expect(seen).toEqual(["expired", "missing"]);
  });

  it("passes UNAVAILABLE through when the JWKS endpoint is down", async () => {
    const pair = await ecPair();
    await using server = await startJwksServer([]);
    server.failWith = 503;
    const jwksVerifier = createVerifier({ algorithms: ["ES256"], jwksUrl: server.url, now: at(60) });
    const token = await createIssuer({
      algorithm: "ES256",
      privateKey: pair.privatePem,
      keyId: "k",
      now: at(0),
    }).issue({}, { expiresIn: "1h" });
    const app = appWith({ verifier: jwksVerifier, onError: unauthorizedResponse });
    const response = await app.request("/org/repo", { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(503);
    expect(response.headers.get("www-authenticate")).toBeNull();
  });
});

import { createVerifier } from "@wharf/auth-jwt";
import { isWharfError } from "@wharf/errors";
import { createMetrics, silentLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { freePort, ldapEnv, ldapFixture } from "@wharf/test-kit";
import { Client } from "ldapts";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import type { LdapConfig } from "../src/config.ts";
import { createLdapAuthenticator, type LdapAuthOptions } from "../src/ldap-auth.ts";
import { createSnapshotStore } from "../src/snapshot-store.ts";

const secret = "ldap-test-secret-0123456789";

function options(overrides: Partial<LdapAuthOptions> = {}): LdapAuthOptions {
  const env = ldapEnv();
  const base: LdapConfig = {
    url: env.ldapsUrl,
    baseDn: env.baseDn,
    usernameAttribute: "uid",
    gidAttribute: "gidNumber",
    validGid: String(ldapFixture.groups.registryUsers.gidNumber),
    startTls: false,
    timeoutMs: 5000,
  };
  return { ...base, ca: env.ca, ...overrides };
}

function appWith(ldap: LdapAuthOptions) {
  const driver = createMemoryDriver();
  return createApp({
    config: {
      prefix: "",
      jwt: { secret, expiresInSeconds: 3600 },
      visibility: { default: ["*"], users: {} },
    },
    store: createSnapshotStore({ driver, prefix: "", reloadIntervalMs: 1000 }),
    ldap: createLdapAuthenticator(ldap),
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "t", defaultMetrics: false }),
  });
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

async function login(app: ReturnType<typeof appWith>, user: string, password: string) {
  return app.request("/auth_token", { headers: basic(user, password) });
}

describe("GET /auth_token against slapd", () => {
  const app = appWith(options());
  const { alice, bob } = ldapFixture.users;

  it("issues a JWT whose sub is the entry's canonical uid for a good login (ldaps, gid gate)", async () => {
    const res = await login(app, "ALICE", alice.password);
    expect(res.status).toBe(200);
    const { auth_token } = (await res.json()) as { auth_token: string };
    const claims = await createVerifier({ algorithms: ["HS256"], secret }).verify(auth_token);
    expect(claims).toMatchObject({ sub: "alice", type: "access", fresh: false });
    expect(typeof claims.jti).toBe("string");
    const api = await app.request("/repositories", { headers: { authorization: `Bearer ${auth_token}` } });
    expect(api.status).toBe(503); // authenticated; no scan stored yet
  });

  it.each([
    ["a wrong password", "alice", "wrong"],
    ["an empty password", "alice", ""],
    ["an unknown user", "mallory", "x"],
    ["a user outside the gid gate", "bob", bob.password],
    ["the * wildcard", "*", alice.password],
    ["a filter injection", "alice)(uid=*", alice.password],
    ["a filter injection closing the AND", "*)(|(uid=*", alice.password],
  ])("refuses %s with 401 and a Basic challenge", async (_, user, password) => {
    const res = await login(app, user, password);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Basic realm="Authentication Required"');
    expect(((await res.json()) as { code: string }).code).toBe("UNAUTHENTICATED");
  });

  it("refuses a request without Basic credentials", async () => {
    expect((await app.request("/auth_token")).status).toBe(401);
  });

  it("answers 503 when the LDAP server is down", async () => {
    const down = appWith(options({ url: `ldaps://127.0.0.1:${await freePort()}` }));
    const res = await login(down, "alice", alice.password);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("UNAVAILABLE");
  });
});

describe("LDAP authenticator options", () => {
  const { alice, bob } = ldapFixture.users;

  it("upgrades ldap:// with StartTLS, verifying the server against the CA", async () => {
    const auth = createLdapAuthenticator(options({ url: ldapEnv().url, startTls: true }));
    expect(await auth.authenticate("alice", alice.password)).toBe("alice");
  });

  it("refuses a server certificate it cannot verify (no CA given)", async () => {
    const auth = createLdapAuthenticator(options({ ca: undefined }));
    const error = await auth.authenticate("alice", alice.password).catch((e: unknown) => e);
    expect(isWharfError(error, "UNAVAILABLE")).toBe(true);
  });

  it("gates on group membership: groupOfNames member, posixGroup memberUid", async () => {
    const admins = createLdapAuthenticator(
      options({ gidAttribute: undefined, validGid: undefined, groupDn: ldapFixture.groups.admins.dn }),
    );
    expect(await admins.authenticate("alice", alice.password)).toBe("alice");
    const refused = await admins.authenticate("bob", bob.password).catch((e: unknown) => e);
    expect(isWharfError(refused, "UNAUTHENTICATED")).toBe(true);
    const posix = createLdapAuthenticator(
      options({ gidAttribute: undefined, validGid: undefined, groupDn: ldapFixture.groups.registryUsers.dn }),
    );
    expect(await posix.authenticate("alice", alice.password)).toBe("alice");
  });

  it("lets anyone in the base DN log in without a gate", async () => {
    const open = createLdapAuthenticator(options({ gidAttribute: undefined, validGid: undefined }));
    expect(await open.authenticate("bob", bob.password)).toBe("bob");
    const wildcard = await open.authenticate("*", bob.password).catch((e: unknown) => e);
    expect(isWharfError(wildcard, "UNAUTHENTICATED")).toBe(true);
  });

  it("binds once for an unknown user as for a wrong password (regression: an unknown user skipped the bind, a timing oracle)", async () => {
    const operations: string[] = [];
    const watched = createLdapAuthenticator(
      options({
        newClient: (clientOptions) => {
          const client = new Client(clientOptions);
          const search = client.search.bind(client);
          const bind = client.bind.bind(client);
          client.search = (...args) => {
            operations.push("search");
            return search(...args);
          };
          client.bind = (...args) => {
            operations.push("bind");
            return bind(...args);
          };
          return client;
        },
      }),
    );
    const workFor = async (user: string) => {
      operations.length = 0;
      const error = await watched.authenticate(user, "wrong-password").catch((e: unknown) => e);
      expect(isWharfError(error, "UNAUTHENTICATED")).toBe(true);
      return [...operations];
    };
    expect(await workFor("alice")).toEqual(["search", "bind"]);
    expect(await workFor("nobody-by-this-name")).toEqual(["search", "bind"]);
  });
});

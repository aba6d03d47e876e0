import { Client, InvalidCredentialsError } from "ldapts";
import { describe, expect, it } from "vitest";
import { ldapEnv, ldapFixture } from "../src/index.ts";

const { alice, bob } = ldapFixture.users;

async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  // ldapts speaks TLS whenever tlsOptions is set, so only ldaps:// URLs get them.
  const tls = url.startsWith("ldaps:") ? { tlsOptions: { ca: [ldapEnv().ca] } } : {};
  const client = new Client({ url, timeout: 5000, connectTimeout: 5000, ...tls });
  try {
    return await use(client);
  } finally {
    await client.unbind();
  }
}

describe("LDAP (slapd)", () => {
  it("finds alice anonymously with her memberOf groups", async () => {
    const { searchEntries } = await withClient(ldapEnv().url, (c) =>
      c.search(ldapEnv().baseDn, { filter: "(uid=alice)", attributes: ["uid", "gidNumber", "memberOf"] }),
    );
    expect(searchEntries).toHaveLength(1);
    expect(searchEntries[0]!.dn).toBe(alice.dn);
    expect(searchEntries[0]!.gidNumber).toBe(String(alice.gidNumber));
    expect([searchEntries[0]!.memberOf].flat().sort()).toEqual([...alice.memberOf].sort());
  });

  it("binds alice over ldaps with the provided CA", async () => {
    await withClient(ldapEnv().ldapsUrl, (c) => c.bind(alice.dn, alice.password));
  });

  it("rejects a wrong password with code 49", async () => {
    const error = await withClient(ldapEnv().url, (c) => c.bind(bob.dn, "wrong")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCredentialsError);
    expect((error as InvalidCredentialsError).code).toBe(49);
  });
});

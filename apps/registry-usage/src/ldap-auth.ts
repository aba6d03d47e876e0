import { randomUUID } from "node:crypto";
import { WharfError } from "@wharf/errors";
import {
  AndFilter,
  Client,
  type ClientOptions,
  EqualityFilter,
  type Filter,
  OrFilter,
  ResultCodeError,
} from "ldapts";
import type { LdapConfig } from "./config.ts";

export interface LdapAuthOptions extends LdapConfig {
  /** PEM text of the CA (read from `caFile` by main). */
  readonly ca?: string;
  /** Builds the ldapts client (tests wrap it to watch the operations). */
  readonly newClient?: (options: ClientOptions) => Client;
}

export type LdapAuthenticator = {
  /** The entry's canonical user name on success; `UNAUTHENTICATED` or `UNAVAILABLE` otherwise. */
  authenticate(username: string, password: string): Promise<string>;
};

const refused = (reason: string) =>
  new WharfError("UNAUTHENTICATED", "Unauthorized Access", { details: { reason } });

/**
 * Search-then-bind against LDAP with ldapts: the user entry is found with a filter built from
 * objects (`EqualityFilter`/`AndFilter`, so `*` or `)(uid=*` are plain values), optionally gated
 * by a gid value and a group, then bound with the password (an unknown user's password is bound
 * against a made-up entry, the same work). ldaps and StartTLS verify the server
 * certificate (against `ca` when given). Empty passwords are refused before LDAP is asked: an
 * empty simple bind is an anonymous bind on many servers.
 */
export function createLdapAuthenticator(options: LdapAuthOptions): LdapAuthenticator {
  const tls = options.ca ? { ca: [options.ca] } : {};
  const newClient = options.newClient ?? ((clientOptions: ClientOptions) => new Client(clientOptions));

  async function connect(): Promise<Client> {
    const client = newClient({
      url: options.url,
      timeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
      ...(options.url.toLowerCase().startsWith("ldaps:") ? { tlsOptions: tls } : {}),
    });
    if (options.startTls && !options.url.toLowerCase().startsWith("ldaps:")) await client.startTLS(tls);
    if (options.bindDn) await client.bind(options.bindDn, options.bindPassword ?? "");
    return client;
  }

  const decoyDn = () => `${options.usernameAttribute}=${randomUUID()},${options.baseDn}`;

  function userFilter(username: string): Filter {
    const filters: Filter[] = [new EqualityFilter({ attribute: options.usernameAttribute, value: username })];
    if (options.gidAttribute && options.validGid !== undefined) {
      filters.push(new EqualityFilter({ attribute: options.gidAttribute, value: options.validGid }));
    }
    return new AndFilter({ filters });
  }

  async function inGroup(client: Client, dn: string, uid: string): Promise<boolean> {
    if (!options.groupDn) return true;
    const { searchEntries } = await client.search(options.groupDn, {
      scope: "base",
      filter: new OrFilter({
        filters: [
          new EqualityFilter({ attribute: "member", value: dn }),
          new EqualityFilter({ attribute: "uniqueMember", value: dn }),
          new EqualityFilter({ attribute: "memberUid", value: uid }),
        ],
      }),
      attributes: ["1.1"],
    });
    return searchEntries.length === 1;
  }

  return {
    async authenticate(username, password) {
      if (username === "" || password === "") throw refused("empty_credentials");
      let client: Client | undefined;
      try {
        client = await connect();
        const { searchEntries } = await client.search(options.baseDn, {
          scope: "sub",
          filter: userFilter(username),
          attributes: [options.usernameAttribute],
          sizeLimit: 2,
        });
        if (searchEntries.length !== 1) {
          // The bind a known user's password gets, against an entry that does not exist, so the
          // time of the 401 does not tell unknown users from wrong passwords.
          await client.bind(decoyDn(), password).catch(() => undefined);
          throw refused(searchEntries.length === 0 ? "unknown_user" : "ambiguous_user");
        }
        const entry = searchEntries[0]!;
        try {
          await client.bind(entry.dn, password);
        } catch (error) {
          if (error instanceof ResultCodeError) throw refused("invalid_credentials");
          throw error;
        }
        const values = [entry[options.usernameAttribute] ?? []].flat().map(String);
        const canonical =
          values.find((v) => v.toLowerCase() === username.toLowerCase()) ?? values[0] ?? username;
        if (!(await inGroup(client, entry.dn, canonical))) throw refused("not_in_group");
        return canonical;
      } catch (error) {
        if (error instanceof WharfError) throw error;
        if (error instanceof ResultCodeError && error.code === 4) throw refused("ambiguous_user");
        throw new WharfError("UNAVAILABLE", "the LDAP server cannot be reached", { cause: error });
      } finally {
        await client?.unbind().catch(() => undefined);
      }
    },
  };
}

/** The entries `infra/slapd/start.sh` seeds (real-services.md §2), for assertions. */
export const ldapFixture = {
  baseDn: "dc=example,dc=org",
  peopleDn: "ou=people,dc=example,dc=org",
  groupsDn: "ou=groups,dc=example,dc=org",
  users: {
    alice: {
      dn: "uid=alice,ou=people,dc=example,dc=org",
      uid: "alice",
      password: "alicepw",
      mail: "alice@example.org",
      uidNumber: 10001,
      gidNumber: 5000,
      memberOf: ["cn=developers,ou=groups,dc=example,dc=org", "cn=admins,ou=groups,dc=example,dc=org"],
    },
    bob: {
      dn: "uid=bob,ou=people,dc=example,dc=org",
      uid: "bob",
      password: "bobpw",
      mail: "bob@example.org",
      uidNumber: 10002,
      gidNumber: 6000,
      memberOf: ["cn=developers,ou=groups,dc=example,dc=org"],
    },
  },
  groups: {
    developers: { dn: "cn=developers,ou=groups,dc=example,dc=org", members: ["alice", "bob"] },
    admins: { dn: "cn=admins,ou=groups,dc=example,dc=org", members: ["alice"] },
    /** posixGroup, gidNumber 5000, memberUid alice. */
    registryUsers: {
      dn: "cn=registry-users,ou=groups,dc=example,dc=org",
      gidNumber: 5000,
      memberUids: ["alice"],
    },
  },
} as const;

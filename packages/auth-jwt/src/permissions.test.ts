import { describe, expect, it } from "vitest";
import { type Action, can, formatScope, parseScope, parseScopes, scopesFromClaims } from "./permissions.ts";

describe("can", () => {
  const table: Array<[scopes: string, resource: string, action: Action, allowed: boolean]> = [
    ["org/repo:read", "org/repo", "read", true],
    ["org/repo:read", "org/repo", "write", false],
    ["org/repo:write", "org/repo", "read", true],
    ["org/repo:write", "org/repo", "write", true],
    ["org/repo:write", "org/repo", "admin", false],
    ["org/repo:admin", "org/repo", "write", true],
    ["org/repo:admin", "org/repo", "read", true],
    ["org/repo:write", "org/repo/objects/abc", "write", true],
    ["org/repo:write", "org/repo-2", "read", false],
    ["org/repo:write", "org", "read", false],
    ["org/repo:write", "other/repo", "read", false],
    ["org/*:write", "org/anything", "write", true],
    ["org/*:write", "org/anything/deeper", "write", true],
    ["org/*:write", "org", "read", false],
    ["org/*:write", "orgx/repo", "read", false],
    ["*/repo:read", "any/repo", "read", true],
    ["*/repo:read", "any/other", "read", false],
    ["*:read", "anything/at/all", "read", true],
    ["*:read", "anything", "write", false],
    ["*:admin", "x", "admin", true],
    ["org/repo:read other/*:write", "other/x", "write", true],
    ["org/repo:read other/*:write", "org/repo", "write", false],
    ["", "org/repo", "read", false],
    ["openid profile", "org/repo", "read", false],
    ["org/repo:delete", "org/repo", "read", false],
    ["org/re*:read", "org/repo", "read", false],
    ["org//repo:read", "org/repo", "read", false],
    ["*:read", "org/../secret", "read", false],
    ["*:read", "org//repo", "read", false],
    ["*:read", "", "read", false],
    ["*:read", "/org", "read", false],
    ["org/repo:read", "Org/Repo", "read", false],
    ["ns:org/repo:write", "ns:org/repo", "write", true],
  ];

  it.each(table)("scopes %j on %j for %s → %s", (scopes, resource, action, allowed) => {
    expect(can(parseScopes(scopes), resource, action)).toBe(allowed);
  });

  it("refuses an unknown action whatever the scopes", () => {
    expect(can(parseScopes("*:admin"), "org/repo", "delete" as Action)).toBe(false);
  });
});

describe("parseScopes", () => {
  it("reads the OAuth space-separated string and the array form alike", () => {
    expect(parseScopes("org/repo:write  org/*:read")).toEqual(parseScopes(["org/repo:write", "org/*:read"]));
    expect(parseScopes(["org/repo:write"])).toEqual([{ pattern: ["org", "repo"], action: "write" }]);
  });

  it("drops entries that are not scopes and tolerates absent or odd claims", () => {
    expect(parseScopes(undefined)).toEqual([]);
    expect(parseScopes(42)).toEqual([]);
    expect(parseScopes(["openid", 7, "org:read"])).toEqual([{ pattern: ["org"], action: "read" }]);
  });

  it("rejects a scope with whitespace inside, and round-trips valid ones", () => {
    expect(parseScope("org/my repo:read")).toBeUndefined();
    expect(parseScope(":read")).toBeUndefined();
    expect(formatScope(parseScope("org/*:admin")!)).toBe("org/*:admin");
  });

  it("collects scopes from both the scope and scopes claims", () => {
    const scopes = scopesFromClaims({ scope: "a:read", scopes: ["b/*:write"] });
    expect(scopes.map(formatScope)).toEqual(["a:read", "b/*:write"]);
  });
});

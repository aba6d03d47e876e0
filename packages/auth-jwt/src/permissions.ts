/** What a scope allows; each action implies the ones before it: read < write < admin. */
export type Action = "read" | "write" | "admin";

/** A parsed scope: `org/*:write` is `{ pattern: ["org", "*"], action: "write" }`. */
export interface Scope {
  readonly pattern: readonly string[];
  readonly action: Action;
}

const rank: Record<Action, number> = { read: 1, write: 2, admin: 3 };

/**
 * One `<resource-pattern>:<action>` string as a {@link Scope}, or `undefined` when it is not one
 * (other OAuth scopes such as `openid` are simply not ours). The pattern is `/`-separated segments,
 * each a literal or `*` for exactly one segment; a lone `*` covers every resource.
 *
 * @example
 * parseScope("org/*:write"); // { pattern: ["org", "*"], action: "write" }
 */
export function parseScope(text: string): Scope | undefined {
  if (typeof text !== "string" || /\s/.test(text)) return undefined;
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const action = text.slice(colon + 1);
  if (!(action in rank)) return undefined;
  const pattern = text.slice(0, colon).split("/");
  if (!pattern.every(validPatternSegment)) return undefined;
  return { pattern, action: action as Action };
}

/**
 * Scopes from a claim value: a space-separated string (OAuth `scope`) or an array (`scopes`).
 * Entries that are not scopes are dropped, so they grant nothing.
 *
 * @example
 * parseScopes("org/repo:write other/*:read openid");
 */
export function parseScopes(claim: unknown): Scope[] {
  const entries = typeof claim === "string" ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  const scopes: Scope[] = [];
  for (const entry of entries) {
    const scope = typeof entry === "string" ? parseScope(entry) : undefined;
    if (scope) scopes.push(scope);
  }
  return scopes;
}

/** The scopes a token carries in its `scope` (string) and `scopes` (array) claims. */
export function scopesFromClaims(claims: Readonly<Record<string, unknown>>): Scope[] {
  return [...parseScopes(claims.scope), ...parseScopes(claims.scopes)];
}

/** A scope back in its `<pattern>:<action>` form. */
export function formatScope(scope: Scope): string {
  return `${scope.pattern.join("/")}:${scope.action}`;
}

/**
 * True when some scope's pattern is a whole-segment prefix of `resource` and its action implies
 * `action`. Resources with empty, `.` or `..` segments are never allowed.
 *
 * @example
 * can(parseScopes("org/*:write"), "org/repo", "read"); // true
 * can(parseScopes("org/repo:read"), "org/repo-2", "read"); // false
 */
export function can(scopes: readonly Scope[], resource: string, action: Action): boolean {
  if (!(action in rank)) return false;
  const segments = resource.split("/");
  if (!segments.every(validResourceSegment)) return false;
  return scopes.some((scope) => rank[scope.action] >= rank[action] && covers(scope.pattern, segments));
}

function covers(pattern: readonly string[], segments: readonly string[]): boolean {
  if (pattern.length > segments.length) return false;
  return pattern.every((part, index) => part === "*" || part === segments[index]);
}

function validPatternSegment(segment: string): boolean {
  return segment === "*" || (validResourceSegment(segment) && !segment.includes("*"));
}

function validResourceSegment(segment: string): boolean {
  return segment.length > 0 && segment !== "." && segment !== "..";
}

import { authFailure } from "./auth-error.ts";

/**
 * Where a credential may come from, tried in the order given:
 * - `bearer`: `Authorization: Bearer <token>`
 * - `basic`: `Authorization: Basic base64(user:token)`, the token as password
 * - `query:<name>`: a query parameter (e.g. `query:jwt`)
 * - `form:<name>`: a form field (e.g. `form:jwt`)
 * - `header:<Name>`: a header holding the bare token (e.g. `header:Auth-Token`)
 */
export type CredentialSource = "bearer" | "basic" | `query:${string}` | `form:${string}` | `header:${string}`;

export interface CredentialRequest {
  readonly headers: Headers;
  readonly url: string;
  readonly form?: FormData | Readonly<Record<string, string | File | undefined>>;
}

export interface Credentials {
  readonly source: CredentialSource;
  readonly token: string;
  /** The Basic user name, when the credential came from Basic auth. */
  readonly username?: string;
}

const token68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The first credential found in `sources`, or `undefined` when there is none. A malformed
 * `Authorization` header, or one whose scheme is not among `sources`, is refused with
 * `UNAUTHENTICATED` (`details.reason` `malformed` or `unsupported_scheme`) rather than ignored.
 *
 * @example
 * extractCredentials({ headers, url }, ["basic", "bearer"]);
 * // { source: "basic", token: "eyJ…", username: "bob" }
 */
export function extractCredentials(
  request: CredentialRequest,
  sources: readonly CredentialSource[],
): Credentials | undefined {
  const authorization = authorizationOf(request.headers, sources);
  for (const source of sources) {
    const found = fromSource(request, source, authorization);
    if (found) return found;
  }
  return undefined;
}

interface Authorization {
  readonly scheme: "bearer" | "basic";
  readonly value: string;
}

function authorizationOf(headers: Headers, sources: readonly CredentialSource[]): Authorization | undefined {
  const accepted = sources.filter((source) => source === "bearer" || source === "basic");
  const header = headers.get("authorization");
  if (accepted.length === 0 || header === null) return undefined;
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +(.*))?$/.exec(header.trim());
  if (!match) throw authFailure("malformed");
  const scheme = match[1]!.toLowerCase();
  if (!accepted.includes(scheme as "bearer" | "basic")) throw authFailure("unsupported_scheme");
  return { scheme: scheme as "bearer" | "basic", value: (match[2] ?? "").trim() };
}

function fromSource(
  request: CredentialRequest,
  source: CredentialSource,
  authorization: Authorization | undefined,
): Credentials | undefined {
  if (source === "bearer" || source === "basic") {
    if (authorization?.scheme !== source) return undefined;
    return source === "bearer" ? bearer(authorization.value) : basic(authorization.value);
  }
  const colon = source.indexOf(":");
  const kind = source.slice(0, colon);
  const name = source.slice(colon + 1);
  let value: unknown;
  if (kind === "query") value = new URL(request.url, "http://localhost").searchParams.get(name);
  else if (kind === "header") value = request.headers.get(name);
  else if (kind === "form") value = formValue(request.form, name);
  if (value === null || value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw authFailure("malformed");
  return { source, token: value.trim() };
}

function formValue(form: CredentialRequest["form"], name: string): unknown {
  if (form === undefined) return undefined;
  if (typeof FormData !== "undefined" && form instanceof FormData) return form.get(name);
  return (form as Record<string, unknown>)[name];
}

function bearer(value: string): Credentials {
  if (!token68.test(value)) throw authFailure("malformed");
  return { source: "bearer", token: value };
}

function basic(value: string): Credentials {
  if (!base64.test(value) || value.length === 0) throw authFailure("malformed");
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(value, "base64"));
  } catch (cause) {
    throw authFailure("malformed", { cause });
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) throw authFailure("malformed");
  const username = decoded.slice(0, colon);
  const token = decoded.slice(colon + 1);
  if (token.length === 0) throw authFailure("malformed");
  return { source: "basic", token, username };
}

import { WharfError } from "@wharf/errors";
import { invalidArgument } from "./errors.ts";

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When temporary credentials stop working; a provider is asked again 5 minutes before. */
  readonly expiration?: Date;
}

/** Resolves (possibly temporary) credentials, e.g. from an ECS task role. */
export type CredentialProvider = () => Promise<Credentials>;

const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const NAME = /^[a-z0-9-]+$/;

export function checkCredentials(credentials: Credentials): Credentials {
  if (typeof credentials?.accessKeyId !== "string" || credentials.accessKeyId.length === 0) {
    throw invalidArgument("credentials.accessKeyId is missing");
  }
  if (typeof credentials.secretAccessKey !== "string" || credentials.secretAccessKey.length === 0) {
    throw invalidArgument("credentials.secretAccessKey is missing");
  }
  return credentials;
}

/** Region and service names go into the string to sign, which must stay ASCII. */
export function checkScopeName(what: string, value: string): string {
  if (!NAME.test(value))
    throw invalidArgument(`${what} must be lower-case letters, digits and '-': ${value}`);
  return value;
}

/** Caches a provider's answer until 5 minutes before its `expiration`; concurrent callers share one call. */
export function cacheCredentials(provider: CredentialProvider): () => Promise<Credentials> {
  let current: Credentials | undefined;
  let pending: Promise<Credentials> | undefined;
  return async () => {
    if (current !== undefined && !isStale(current)) return current;
    pending ??= provider()
      .then((resolved) => {
        current = checkCredentials(resolved);
        return current;
      })
      .catch((cause: unknown) => {
        throw cause instanceof WharfError
          ? cause
          : new WharfError("UNAVAILABLE", "could not resolve signing credentials", { cause });
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

function isStale(credentials: Credentials): boolean {
  return (
    credentials.expiration !== undefined && credentials.expiration.getTime() - REFRESH_MARGIN_MS <= Date.now()
  );
}

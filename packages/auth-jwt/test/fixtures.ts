import { generateKeyPair as generateNodeKeyPair, type KeyObject } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { base64url, exportJWK, type JWK } from "jose";

export const T0 = new Date("2025-03-01T12:00:00Z");
export const at = (secondsAfterT0: number) => () => new Date(T0.getTime() + secondsAfterT0 * 1000);

const generate = promisify(generateNodeKeyPair);

export interface PemPair {
  readonly publicPem: string;
  readonly privatePem: string;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

export async function rsaPair(): Promise<PemPair> {
  return pems(await generate("rsa", { modulusLength: 2048 }));
}

export async function ecPair(namedCurve = "prime256v1"): Promise<PemPair> {
  return pems(await generate("ec", { namedCurve }));
}

export async function ed25519Pair(): Promise<PemPair> {
  return pems(await generate("ed25519"));
}

function pems(pair: { publicKey: KeyObject; privateKey: KeyObject }): PemPair {
  return {
    ...pair,
    publicPem: pair.publicKey.export({ type: "spki", format: "pem" }) as string,
    privatePem: pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}

/** A compact JWT with an arbitrary header and payload and the given signature segment. */
export function rawToken(header: object, payload: object, signature = ""): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

export async function publicJwk(key: KeyObject, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(key)), kid, alg, use: "sig" };
}

/** A JWKS document served on loopback; `keys` can be swapped to rotate, `hits` counts fetches. */
export interface JwksServer extends AsyncDisposable {
  readonly url: string;
  keys: JWK[];
  hits: number;
  /** When set, every request answers with this status and no JWKS. */
  failWith: number | undefined;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { keys, hits: 0, failWith: undefined as number | undefined };
  const server = createServer((_request, response) => {
    state.hits++;
    if (state.failWith !== undefined) {
      response.writeHead(state.failWith).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

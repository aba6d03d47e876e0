import { createVerifier } from "@wharf/auth-jwt";
import { createMetrics, serveHttp, silentLogger } from "@wharf/http-kit";
import type { StorageDriver } from "@wharf/storage-driver";
import { freePort } from "@wharf/test-kit";
import { createApp } from "../src/app.ts";
import { type Env, loadConfig } from "../src/config.ts";
import type { ProbeReport } from "../src/probe.ts";
import { authKeys, baseEnv, fileEntry, formData, token, type UploadForm } from "./helpers.ts";

export interface RunningBitstore extends AsyncDisposable {
  readonly url: string;
  authorize(user: string, filedata: Record<string, unknown>, options?: { name?: string }): Promise<Response>;
  call(path: string, user: string, body?: unknown, method?: string): Promise<Response>;
}

/** bitstore on a real loopback port, as `main.ts` would run it. */
export async function startBitstore(options: {
  env: Env;
  driver: StorageDriver;
  now?: () => Date;
  probe?: ProbeReport;
}): Promise<RunningBitstore> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig(baseEnv({ PUBLIC_URL: url, ...options.env }));
  const app = createApp({
    config,
    driver: options.driver,
    verifier: createVerifier({ algorithms: ["RS256"], publicKey: authKeys.publicKey }),
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "bitstore_it", defaultMetrics: false }),
    ...(options.now ? { now: options.now } : {}),
    ...(options.probe ? { probe: () => options.probe } : {}),
  });
  const server = await serveHttp(app.fetch, { port, host: "127.0.0.1" });
  const call = async (path: string, user: string, body?: unknown, method = "POST") =>
    fetch(`${url}${path}`, {
      method,
      headers: { "Content-Type": "application/json", "Auth-Token": await token(user) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    url,
    call,
    authorize: (user, filedata, o = {}) =>
      call("/rawstore/authorize", user, { metadata: { owner: user, name: o.name ?? "ds" }, filedata }),
    [Symbol.asyncDispose]: () => server.close(500),
  };
}

export async function formFor(
  bitstore: RunningBitstore,
  path: string,
  body: Uint8Array | string,
  type = "text/csv",
): Promise<UploadForm & { exists: boolean }> {
  const res = await bitstore.authorize("bob", { [path]: fileEntry(body, type) });
  if (res.status !== 200) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { filedata: Record<string, UploadForm & { exists: boolean }> }).filedata[
    path
  ]!;
}

/** A browser-style multipart/form-data POST of the form and the file. */
export function post(
  form: UploadForm,
  body: Uint8Array | string,
  type?: string,
  redirect: "manual" | "follow" = "manual",
) {
  return fetch(form.upload_url, { method: "POST", body: formData(form, body, type), redirect });
}

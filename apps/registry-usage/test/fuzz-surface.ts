import { createIssuer } from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import { createMetrics, serveHttp, silentLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { expectClearHttpAnswer, type FuzzSurface, hostileText, mutatedJson, urlPiece } from "@wharf/test-kit";
import fc from "fast-check";
import { createApp } from "../src/app.ts";
import type { Snapshot } from "../src/crawl.ts";
import { createDirtyMarks } from "../src/dirty-marks.ts";
import { mediaTypes } from "../src/manifest.ts";
import { createSnapshotStore } from "../src/snapshot-store.ts";

/** One fuzzed request: a path under the API, a query string, headers, and (for events) a body. */
export interface RegistryInput {
  readonly path: string;
  readonly query: string;
  readonly method: string;
  readonly accept: string | undefined;
  readonly auth: "bearer" | "none" | "basic" | "garbage";
  readonly body: string | undefined;
  readonly oversize: boolean;
}

const secret = "fuzz-secret-0123456789abcdef";
const notifySecret = "fuzz-notify-0123456789abcdef";
const digest = (name: string) => `sha256:${name.padEnd(64, "0")}`;
const layer = (name: string, size: number) => ({ digest: digest(name), size });
const snapshot: Snapshot = {
  version: 1,
  timestamp: 1795317000.0651085,
  repositories: [
    {
      name: "group/app",
      tags: [{ name: "latest", digest: digest("m1"), mediaType: mediaTypes.ociManifest }],
    },
    {
      name: "group/sub/lib",
      tags: [{ name: "1.0", digest: digest("m1"), mediaType: mediaTypes.ociManifest }],
    },
    { name: "broken/repo", tags: null, error: "tags of broken/repo: not found" },
  ],
  manifests: {
    [digest("m1")]: {
      kind: "image",
      mediaType: mediaTypes.ociManifest,
      config: layer("c1", 10),
      layers: [layer("aaa", 1000), layer("bbb", 20)],
    },
  },
  blobSizes: {},
};
const envelope = {
  events: [
    {
      id: "e",
      timestamp: "2026-01-01T00:00:00Z",
      action: "push",
      target: { repository: "group/app", tag: "latest", mediaType: mediaTypes.ociManifest },
    },
  ],
};

const segment = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom("group", "app", "sub", "lib", "tags", "latest", "broken", "repo", "1.0"),
  },
  { weight: 2, arbitrary: urlPiece },
  fc.constantFrom("group%2Fapp", "group%2Fsub%2Flib", "%2F", "tags%2Flatest"),
);
const knownPath = fc
  .tuple(
    fc.constantFrom("/repositories", "/images"),
    fc.constantFrom(
      "",
      "/group/app",
      "/group%2Fapp",
      "/group/sub/lib",
      "/group%2Fsub%2Flib",
      "/broken%2Frepo",
    ),
    fc.constantFrom("", "/tags", "/tags/latest", "/tags/1.0", "/tags/nope"),
  )
  .map(([base, repo, tags]) => `${base}${repo}${repo ? tags : ""}`);
const pathArb = fc.oneof(
  { weight: 6, arbitrary: knownPath },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom("/repositories", "/images"), fc.array(segment, { maxLength: 5 }))
      .map(([base, parts]) => (parts.length ? `${base}/${parts.join("/")}` : base)),
  },
  fc.constantFrom("/auth_token", "/events", "/healthz", "/metrics", "/", "/repositories/", "//repositories"),
  fc.array(urlPiece, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join("/")}`),
);
const validValues: Record<string, string[]> = {
  links: ["true", "yes", "false", "0"],
  embed: ["true", "1", "2", "0", "y"],
  page: ["1", "2", "3"],
  per_page: ["1", "2", "1000"],
  sort: ["name", "size", "-size", "unique", "-exclusive", "shared_size", "disk_size"],
  order: ["asc", "desc", "DESC"],
};
const anyValue = fc.oneof(
  fc.constantFrom("-1", "0", "1001", "9007199254740993", "1e3", "x", "-", ""),
  urlPiece,
);
const queryPair = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(...Object.keys(validValues))
      .chain((key) =>
        fc.tuple(
          fc.constant(key),
          fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...validValues[key]!) }, anyValue),
        ),
      ),
  },
  fc.tuple(urlPiece, anyValue),
);
const queryArb = fc
  .array(queryPair, { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}` : ""));

const acceptArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  fc.constantFrom("text/html", "application/json", "*/*", "text/html;q=0, application/hal+json"),
  hostileText.map((t) => t.replace(/[^\x20-\x7e]/g, "")),
);
const anyAuth = fc.constantFrom<RegistryInput["auth"]>("bearer", "none", "basic", "garbage");
const anyMethod = fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS");

/** Mostly authenticated reads of the HAL API; then notification envelopes; then anything anywhere. */
export const registryInputs: fc.Arbitrary<RegistryInput> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      path: pathArb,
      query: queryArb,
      method: fc.oneof({ weight: 10, arbitrary: fc.constant("GET") }, fc.constant("HEAD")),
      accept: acceptArb,
      auth: fc.oneof({ weight: 10, arbitrary: fc.constant<RegistryInput["auth"]>("bearer") }, anyAuth),
      body: fc.constant(undefined),
      oversize: fc.constant(false),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      path: fc.constant("/events"),
      query: fc.constant(""),
      method: fc.oneof({ weight: 10, arbitrary: fc.constant("POST") }, anyMethod),
      accept: acceptArb,
      auth: fc.oneof({ weight: 10, arbitrary: fc.constant<RegistryInput["auth"]>("bearer") }, anyAuth),
      body: mutatedJson(envelope),
      oversize: fc.oneof({ weight: 100, arbitrary: fc.constant(false) }, fc.constant(true)),
    }),
  },
  fc.record({
    path: pathArb,
    query: queryArb,
    method: anyMethod,
    accept: acceptArb,
    auth: anyAuth,
    body: fc.option(mutatedJson(envelope), { nil: undefined }),
    oversize: fc.constant(false),
  }),
);

/** Events bodies are capped at 4 MiB (events.ts). */
const eventsCap = 4 << 20;

/** registry-usage on a stored snapshot (memory driver), with its notifications endpoint, over loopback. */
export async function registrySurface(): Promise<FuzzSurface<RegistryInput> & AsyncDisposable> {
  const driver = createMemoryDriver();
  const store = createSnapshotStore({ driver, prefix: "ru/", reloadIntervalMs: 1000 });
  await store.save(snapshot, undefined);
  const app = createApp({
    config: {
      prefix: "",
      jwt: { secret, expiresInSeconds: 3600 },
      visibility: { default: ["*"], users: { eve: ["group/sub"] } },
    },
    store,
    ldap: {
      authenticate: async (user, password) => {
        if (user === "alice" && password === "pw") return "alice";
        throw new WharfError("UNAUTHENTICATED", "no", { details: { reason: "bad password" } });
      },
    },
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "ru_fuzz", defaultMetrics: false }),
    notifications: {
      config: { secret: notifySecret, path: "/events", header: "Authorization" },
      marks: createDirtyMarks({ driver, prefix: "ru/" }),
    },
  });
  const server = await serveHttp(app.fetch, { port: 0, host: "127.0.0.1" });
  const token = await createIssuer({ algorithm: "HS256", secret }).issue(
    { type: "access", fresh: false },
    { expiresIn: 24 * 3600, subject: "alice" },
  );
  const authHeader: Record<RegistryInput["auth"], string | undefined> = {
    bearer: `Bearer ${token}`,
    none: undefined,
    basic: `Basic ${Buffer.from("alice:pw").toString("base64")}`,
    garbage: "Bearer a.b.c",
  };

  const check = async (input: RegistryInput) => {
    const events = input.path === "/events";
    const headers: Record<string, string> = {};
    const auth = events && input.auth === "bearer" ? `Bearer ${notifySecret}` : authHeader[input.auth];
    if (auth) headers.Authorization = auth;
    if (input.accept !== undefined) headers.Accept = input.accept;
    const sendsBody = input.method !== "GET" && input.method !== "HEAD" && input.body !== undefined;
    const body = sendsBody && input.oversize ? `${input.body}${" ".repeat(eventsCap + 1)}` : input.body;
    const res = await fetch(`${server.url}${input.path}${input.query}`, {
      method: input.method,
      headers,
      ...(sendsBody ? { body } : {}),
    });
    if (events && input.method === "POST" && sendsBody && input.oversize && input.auth === "bearer") {
      if (res.status !== 413) {
        await res.arrayBuffer();
        throw new Error(`an events body past the ${eventsCap}-byte cap was answered ${res.status}, not 413`);
      }
    }
    // HTML answers are for browsers; every error is JSON whatever the Accept header says.
    await expectClearHttpAnswer(res, (b) => typeof b.message === "string", { method: input.method });
  };
  const good = async () => {
    const res = await fetch(`${server.url}/repositories/group%2Fapp/tags/latest?links=true`, {
      headers: { Authorization: authHeader.bearer! },
    });
    const body = (await res.json()) as { name?: unknown };
    if (res.status !== 200 || body.name !== "latest")
      throw new Error(`a good tag request answered ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  };
  return {
    name: "fuzz-registry",
    inputs: registryInputs,
    check,
    good,
    [Symbol.asyncDispose]: () => server.close(0),
  };
}

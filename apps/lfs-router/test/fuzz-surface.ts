import { createMetrics, type RunningServer, serveHttp, silentLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import {
  anyJson,
  expectClearHttpAnswer,
  type FuzzSurface,
  hasMessage,
  hostileText,
  mutatedJson,
  urlPiece,
} from "@wharf/test-kit";
import fc from "fast-check";
import { createApp } from "../src/app.ts";
import { nodeFetch } from "../src/http.ts";
import { basic, blob, lfsHeaders, testConfig, token, verifyPath } from "../src/test-support.ts";

/** One fuzzed LFS request. `oversize` pads the body past the route's cap with whitespace. */
export interface LfsInput {
  readonly route: "batch" | "verify" | "lock" | "lock-verify" | "unlock" | "locks" | "object";
  readonly method: string;
  readonly repo: string;
  readonly query: string;
  readonly body: string | undefined;
  readonly accept: string | undefined;
  readonly auth: "writer" | "none" | "garbage";
  readonly oversize: boolean;
}

const oid = blob("fuzz").oid;
const validBatch = {
  operation: "upload",
  transfers: ["basic"],
  ref: { name: "refs/heads/main" },
  objects: [{ oid, size: 4 }],
  hash_algo: "sha256",
};
const bodies: Record<LfsInput["route"], unknown> = {
  batch: validBatch,
  verify: { oid, size: 4 },
  lock: { path: "a/b.bin", ref: { name: "refs/heads/main" } },
  "lock-verify": { cursor: "0", limit: 10, ref: { name: "refs/heads/main" } },
  unlock: { force: true, ref: { name: "refs/heads/main" } },
  locks: undefined,
  object: undefined,
};
/** The routes' body caps (app.ts, lock-routes.ts, object-routes.ts). */
const caps: Record<LfsInput["route"], number> = {
  batch: 8 * 1024 * 1024,
  verify: 64 * 1024,
  lock: 64 * 1024,
  "lock-verify": 64 * 1024,
  unlock: 64 * 1024,
  locks: 64 * 1024,
  object: 64 * 1024,
};

const repoArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant("org/repo") },
  {
    weight: 1,
    arbitrary: fc.array(urlPiece, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/")),
  },
);
const queryArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.constantFrom("limit", "cursor", "path", "id", "refspec", "size", "expires", "sig"),
          urlPiece,
        ),
        {
          maxLength: 3,
        },
      )
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`),
  },
);

export const lfsInputs: fc.Arbitrary<LfsInput> = fc
  .record({
    route: fc.constantFrom<LfsInput["route"]>(
      "batch",
      "verify",
      "lock",
      "lock-verify",
      "unlock",
      "locks",
      "object",
    ),
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant("") },
      fc.constantFrom("GET", "PUT", "DELETE", "PATCH"),
    ),
    repo: repoArb,
    query: queryArb,
    mutation: fc.nat(),
    accept: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      fc.constantFrom("text/html", "*/*", "application/json;q=0", ""),
      hostileText.map((t) => t.replace(/[^\x20-\x7e]/g, "")),
    ),
    auth: fc.constantFrom<LfsInput["auth"]>("writer", "writer", "writer", "none", "garbage"),
    oversize: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, fc.constant(true)),
    seedBody: fc.oneof(
      anyJson.map((v) => JSON.stringify(v) ?? "null"),
      fc.constant(""),
    ),
  })
  .chain((r) => {
    const valid = bodies[r.route];
    const body = valid === undefined ? fc.constant(r.seedBody) : mutatedJson(valid);
    return body.map((text) => ({
      route: r.route,
      method: r.method,
      repo: r.repo,
      query: r.query,
      body: text,
      accept: r.accept,
      auth: r.auth,
      // an 8 MiB batch body now and then; smaller caps more often
      oversize: r.oversize && (r.route !== "batch" || r.mutation % 8 === 0),
    }));
  });

/** The router in proxy mode on the memory driver, served over loopback by node-server. */
export async function lfsSurface(): Promise<
  FuzzSurface<LfsInput> & AsyncDisposable & { server: RunningServer }
> {
  const driver = createMemoryDriver();
  const config = testConfig({ maxObjectSize: 10_000, repoQuotaBytes: 1_000_000 });
  const app = createApp({
    config,
    driver,
    mode: "proxy",
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "lfs_fuzz", defaultMetrics: false }),
  });
  const server = await serveHttp(nodeFetch(app), { port: 0, host: "127.0.0.1" });
  const writer = basic("bob", await token("bob", "org/repo:admin"));
  const object = blob("fuzz");
  // `object` stored, and a signed verify link for it, so verify bodies reach their parser.
  const prepared = await fetch(`${server.url}/org/repo/info/lfs/objects/batch`, {
    method: "POST",
    headers: { ...lfsHeaders, Authorization: writer },
    body: JSON.stringify({ operation: "upload", objects: [{ oid: object.oid, size: object.size }] }),
  });
  const actions = ((await prepared.json()) as { objects: { actions: Record<string, { href: string }> }[] })
    .objects[0]!.actions;
  await fetch(actions.upload!.href, { method: "PUT", body: object.data });
  const verifyHref = new URL(`${server.url}${verifyPath("org/repo", object, config)}`);

  const url = (input: LfsInput): string => {
    const base = `${server.url}/${input.repo}/info/lfs`;
    switch (input.route) {
      case "batch":
        return `${base}/objects/batch${input.query}`;
      case "verify":
        return input.repo === "org/repo" && input.query === ""
          ? `${server.url}${verifyHref.pathname}${verifyHref.search}`
          : `${base}/objects/${oid}/verify${input.query}`;
      case "lock":
      case "locks":
        return `${base}/locks${input.query}`;
      case "lock-verify":
        return `${base}/locks/verify${input.query}`;
      case "unlock":
        return `${base}/locks/${input.query ? "zz" : "ab".repeat(26)}/unlock`;
      case "object":
        return `${base}/objects/${input.query ? "nothex" : oid}${input.query}`;
    }
  };
  const check = async (input: LfsInput) => {
    const method = input.method || (input.route === "locks" || input.route === "object" ? "GET" : "POST");
    const body = input.oversize
      ? `${input.body ?? ""}${" ".repeat(caps[input.route] + 1 - (input.body?.length ?? 0))}`
      : input.body;
    const auth = { writer, none: undefined, garbage: basic("bob", "not.a.jwt") }[input.auth];
    const headers: Record<string, string> = { ...lfsHeaders };
    if (auth) headers.Authorization = auth;
    if (input.accept === undefined) delete (headers as { Accept?: string }).Accept;
    else headers.Accept = input.accept;
    const res = await fetch(url(input), {
      method,
      headers,
      ...(method === "GET" || method === "HEAD" || body === undefined ? {} : { body }),
    });
    if (input.oversize && method === "POST" && res.status < 300) {
      await res.arrayBuffer();
      throw new Error(
        `a ${body?.length}-byte body past the ${caps[input.route]}-byte cap was accepted (${res.status})`,
      );
    }
    if (res.status === 200 && input.route === "batch") {
      const answer = (await res.clone().json()) as { objects?: { error?: { code: number } }[] };
      const broken = answer.objects?.find((o) => (o.error?.code ?? 0) >= 500);
      if (broken) throw new Error(`a batch object answered ${broken.error?.code}`);
    }
    await expectClearHttpAnswer(res, hasMessage);
  };
  const good = async () => {
    const res = await fetch(`${server.url}/org/repo/info/lfs/objects/batch`, {
      method: "POST",
      headers: { ...lfsHeaders, Authorization: writer },
      body: JSON.stringify({ operation: "download", objects: [{ oid: object.oid, size: object.size }] }),
    });
    const answer = (await res.json()) as { objects?: { actions?: { download?: unknown } }[] };
    if (res.status !== 200 || !answer.objects?.[0]?.actions?.download)
      throw new Error(`a good download batch answered ${res.status} ${JSON.stringify(answer)}`);
  };
  return {
    name: "fuzz-lfs",
    inputs: lfsInputs,
    check,
    good,
    server,
    [Symbol.asyncDispose]: () => server.close(0),
  };
}

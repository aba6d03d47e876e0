import { WharfError } from "@wharf/errors";
import { createMetrics, silentLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import { createDirtyMarks } from "./dirty-marks.ts";
import { changedRepositories, eventsMediaType } from "./events.ts";
import { mediaTypes } from "./manifest.ts";
import { createSnapshotStore } from "./snapshot-store.ts";

const notifySecret = "events-test-secret-0123456789";

function setup(options: { header?: string; failingStore?: boolean } = {}) {
  const driver = createMemoryDriver();
  const marksDriver = options.failingStore
    ? {
        ...driver,
        put: async () => {
          throw new WharfError("UNAVAILABLE", "store down");
        },
      }
    : driver;
  const marks = createDirtyMarks({ driver: marksDriver, prefix: "ru/", now: () => 1_700_000_000_000 });
  const app = createApp({
    config: {
      prefix: "/usage",
      jwt: { secret: "app-test-secret-0123456789", expiresInSeconds: 3600 },
      visibility: { default: ["*"], users: {} },
    },
    store: createSnapshotStore({ driver, prefix: "ru/", reloadIntervalMs: 1000 }),
    ldap: { authenticate: async () => "x" },
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "t" }),
    notifications: {
      config: { secret: notifySecret, path: "/events", header: options.header ?? "Authorization" },
      marks,
    },
  });
  return { app, marks, driver };
}

const event = (action: string, target: Record<string, unknown>) => ({
  id: "e",
  timestamp: "2026-01-01T00:00:00Z",
  action,
  target,
});
const envelope = {
  events: [
    event("push", {
      mediaType: mediaTypes.ociManifest,
      repository: "group/app",
      tag: "v3",
      digest: "sha256:1",
    }),
    event("push", { mediaType: mediaTypes.ociIndex, repository: "group/multi", digest: "sha256:2" }),
    event("delete", { repository: "other/tiny", tag: "t" }),
    event("delete", { repository: "other/gone", digest: "sha256:3" }),
    event("pull", { mediaType: mediaTypes.ociManifest, repository: "pulled/only", tag: "x" }),
    event("push", { mediaType: "application/octet-stream", repository: "blob/only", digest: "sha256:4" }),
    event("mount", { mediaType: "application/octet-stream", repository: "mount/only", digest: "sha256:5" }),
  ],
};

const post = (app: ReturnType<typeof setup>["app"], body: unknown, headers: Record<string, string>) =>
  app.request("/usage/events", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": eventsMediaType, ...headers },
  });

describe("notification endpoint", () => {
  it("marks the repositories of manifest pushes and deletes dirty, ignoring pulls, mounts and blob pushes", async () => {
    const { app, marks } = setup();
    const res = await post(app, envelope, { authorization: `Bearer ${notifySecret}` });
    expect(res.status).toBe(200);
    expect([...(await marks.read()).repositories].sort()).toEqual([
      "group/app",
      "group/multi",
      "other/gone",
      "other/tiny",
    ]);
    expect(await marks.firstEventAt()).toBe(1_700_000_000);
  });

  it("refuses a wrong or missing secret with 401 and records nothing", async () => {
    const { app, marks, driver } = setup();
    for (const headers of [
      { authorization: `Bearer ${notifySecret}x` },
      { authorization: "Bearer " },
      {},
    ] as Record<string, string>[]) {
      const res = await post(app, envelope, headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe("UNAUTHENTICATED");
    }
    expect((await marks.read()).keys).toEqual([]);
    expect(await marks.firstEventAt()).toBeUndefined();
    expect((await driver.list({ prefix: "ru/" })).objects).toEqual([]);
  });

  it("takes the bare secret in a custom header", async () => {
    const { app, marks } = setup({ header: "X-Registry-Secret" });
    expect((await post(app, envelope, { authorization: `Bearer ${notifySecret}` })).status).toBe(401);
    expect((await post(app, envelope, { "x-registry-secret": notifySecret })).status).toBe(200);
    expect((await marks.read()).repositories.size).toBe(4);
  });

  it("answers 400 for a body that is not an envelope, 503 when the store cannot record (the registry retries)", async () => {
    const { app } = setup();
    const auth = { authorization: `Bearer ${notifySecret}` };
    expect((await post(app, "{not json", auth)).status).toBe(400);
    expect((await post(app, { nope: [] }, auth)).status).toBe(400);
    const down = setup({ failingStore: true });
    expect((await post(down.app, envelope, auth)).status).toBe(503);
  });

  // Regression (issue 20 §2): a chunked body over the limit was answered 400 ("not JSON").
  it.each([
    ["declared", true],
    ["chunked", false],
  ])("answers 413 to a %s body over 4 MiB and records nothing", async (_what, declared) => {
    const { app, marks } = setup();
    const big = JSON.stringify({ events: [], padding: " ".repeat(5 * 1024 * 1024) });
    const res = await app.request("/usage/events", {
      method: "POST",
      body: declared ? big : new Blob([big]).stream(),
      headers: {
        "content-type": eventsMediaType,
        authorization: `Bearer ${notifySecret}`,
        ...(declared ? { "content-length": String(big.length) } : {}),
      },
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
    expect((await marks.read()).keys).toEqual([]);
  });

  it("records nothing for an envelope of pulls only", async () => {
    const { app, marks } = setup();
    const res = await post(
      app,
      { events: [envelope.events[4]] },
      { authorization: `Bearer ${notifySecret}` },
    );
    expect(res.status).toBe(200);
    expect((await marks.read()).keys).toEqual([]);
    expect(changedRepositories({ events: [] }).repositories.size).toBe(0);
  });
});

describe("dirty marks", () => {
  it("clears only the marks a pass read: marks written after the read stay", async () => {
    const marks = createDirtyMarks({ driver: createMemoryDriver(), prefix: "" });
    await marks.record(["a/b", "c"]);
    const read = await marks.read();
    await marks.record(["a/b"]);
    await marks.clear(read.keys);
    expect([...(await marks.read()).repositories]).toEqual(["a/b"]);
    expect(await marks.pending()).toBe(true);
  });
});

import { createMetrics, serveHttp, silentLogger } from "@wharf/http-kit";
import { createMemoryDriver } from "@wharf/storage-driver";
import { createApp } from "../src/app.ts";
import { createDirtyMarks } from "../src/dirty-marks.ts";
import { createSnapshotStore } from "../src/snapshot-store.ts";

/** distribution's `notifications.endpoints` value for `url`, as YAML (JSON) for REGISTRY_NOTIFICATIONS_ENDPOINTS. */
export const endpointsEnv = (url: string, secret: string) =>
  JSON.stringify([
    {
      name: "registry-usage",
      url,
      headers: { Authorization: [`Bearer ${secret}`] },
      timeout: "5s",
      threshold: 3,
      backoff: "200ms",
      ignoredmediatypes: ["application/octet-stream"],
    },
  ]);

/**
 * The app with its notification endpoint on a memory store, for benchmarks: `drain` waits until
 * the registry has delivered every event caused so far (it pulls a manifest with a unique user
 * agent and waits for that pull's event: the registry delivers an endpoint's events in order).
 */
export async function startNotifiedApp(secret: string, now: () => number = Date.now) {
  const driver = createMemoryDriver();
  const store = createSnapshotStore({ driver, prefix: "ru/", reloadIntervalMs: 0, now });
  const marks = createDirtyMarks({ driver, prefix: "ru/", now });
  const app = createApp({
    config: {
      prefix: "",
      jwt: { secret: `${secret}-jwt`, expiresInSeconds: 60 },
      visibility: { default: ["*"], users: {} },
    },
    store,
    ldap: { authenticate: async () => "nobody" },
    logger: silentLogger(),
    metrics: createMetrics({ prefix: "bench" }),
    notifications: { config: { secret, path: "/events", header: "Authorization" }, marks },
  });
  const seen = new Map<string, () => void>();
  let received = 0;
  const server = await serveHttp(
    async (request: Request) => {
      const copy = request.clone();
      const response = await app.fetch(request);
      if (response.status === 200 && new URL(request.url).pathname === "/events") {
        const envelope = JSON.parse(await copy.text()) as {
          events?: { action?: string; request?: { useragent?: string } }[];
        };
        for (const event of envelope.events ?? []) {
          received++;
          if (event.action === "pull") seen.get(event.request?.useragent ?? "")?.();
        }
      }
      return response;
    },
    { port: 0, host: "127.0.0.1" },
  );
  let sentinels = 0;
  return {
    url: `${server.url}/events`,
    store,
    marks,
    get received() {
      return received;
    },
    async drain(registryUrl: string, repo: string, tag: string): Promise<void> {
      const agent = `drain-${++sentinels}`;
      const arrived = new Promise<void>((resolve) => seen.set(agent, resolve));
      const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${tag}`, {
        headers: { "user-agent": agent, accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      if (res.status !== 200) throw new Error(`drain pull answered ${res.status}`);
      await res.arrayBuffer();
      await arrived;
      seen.delete(agent);
    },
    close: () => server.close(),
  };
}

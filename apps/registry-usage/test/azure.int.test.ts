import { createTestContainer } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { firstScan, login, scanSetup, startServer, waitFor } from "./server-process.ts";

// Issue 25: registry-usage keeps its snapshot, status and scanner lease in Azure Blob (Azurite),
// read back by a restarted replica; the dev docker-registry and slapd as in server.int.test.ts.
describe("registry-usage on Azure Blob (node src/main.ts)", () => {
  it("scans into the container, renews its lease there, and a restarted replica serves the stored snapshot", async () => {
    await using container = await createTestContainer("registry-usage");
    await using setup = await scanSetup(
      "azure",
      () => `url = ${container.storageUrl()}\nprefix = ru/\nlease = 5s`,
    );
    const { ini, alice, size: expected } = setup;
    const readJson = async (key: string) =>
      JSON.parse((await container.client.getBlockBlobClient(key).downloadToBuffer()).toString("utf8"));
    let token: string;
    {
      await using server = await startServer(ini, container.env);
      token = await login(server, alice);
      const body = await firstScan(server, token);
      expect(body.size).toBe(expected);
      // The snapshot and the lease are blobs in the container.
      const snapshot = await readJson("ru/snapshot.json");
      expect(JSON.stringify(snapshot)).toContain("team/app");
      const lease = (await readJson("ru/lease.json")) as { holder: string; expires_at: number };
      expect(lease.holder).toEqual(expect.any(String));
      // Renewed at a third of its 5 s lifetime, by the same holder.
      const renewed = await waitFor(async () => {
        const next = (await readJson("ru/lease.json")) as { holder: string; expires_at: number };
        return next.expires_at > lease.expires_at ? next : undefined;
      }, "the lease's renewal");
      expect(renewed.holder).toBe(lease.holder);
    }
    // Stopping released the lease in the store.
    expect(((await readJson("ru/lease.json")) as { expires_at: number }).expires_at).toBe(0);
    await using again = await startServer(ini, container.env);
    const res = await fetch(`${again.url}/usage/repositories/team%2Fapp`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { size: number }).size).toBe(expected);
  });
});

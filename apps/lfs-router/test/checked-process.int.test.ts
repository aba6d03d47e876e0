import { createHash } from "node:crypto";
import { connect } from "node:net";
import { join } from "node:path";
import { createIssuer } from "@wharf/auth-jwt";
import { freePort, spawnCheckedServer, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";

const main = join(import.meta.dirname, "../src/main.ts");
const secret = "checked-process-secret-0123456789";

describe("lfs-router as its own process (main.ts), watched for uncaught exceptions", () => {
  // Issue 20 §1: the suite fails if the server logs an uncaught exception or dies by itself, even
  // when every answer looked right. A client that hangs up in the middle of an upload is the case
  // that killed the other servers.
  it("survives uploads cut off mid-body and keeps serving, with nothing uncaught", async () => {
    await using dir = await tempDir("lfs-checked-");
    const port = await freePort();
    await using server = spawnCheckedServer(main, {
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        HOST: "127.0.0.1",
        STORAGE_URL: `file://${dir.path}`,
        JWT_SECRET: secret,
        LOG_LEVEL: "info",
      },
    });
    await server.waitForOutput('"msg":"listening"');
    const token = await createIssuer({ algorithm: "HS256", secret }).issue(
      { username: "alice", scope: "org/*:write" },
      { expiresIn: "10m", subject: "alice" },
    );
    const auth = `Basic ${Buffer.from(`alice:${token}`).toString("base64")}`;
    const body = Buffer.alloc(4 * 1024 * 1024, 7);
    const oid = createHash("sha256").update(body).digest("hex");
    const batch = await fetch(`http://127.0.0.1:${port}/org/repo/info/lfs/objects/batch`, {
      method: "POST",
      headers: {
        Authorization: auth,
        Accept: "application/vnd.git-lfs+json",
        "Content-Type": "application/vnd.git-lfs+json",
      },
      body: JSON.stringify({ operation: "upload", objects: [{ oid, size: body.length }] }),
    });
    const action = (
      (await batch.json()) as {
        objects: Array<{ actions: { upload: { href: string; header?: Record<string, string> } } }>;
      }
    ).objects[0]!.actions.upload;
    const href = new URL(action.href);
    // Five uploads that stop after a quarter of the body and reset the connection.
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          const headers = Object.entries({ ...action.header, Authorization: auth })
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join("");
          socket.write(
            `PUT ${href.pathname}${href.search} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n${headers}\r\n`,
          );
          socket.write(body.subarray(0, body.length / 4), () => socket.resetAndDestroy());
        });
        socket.on("error", () => undefined);
        socket.on("close", () => resolve());
      });
    }
    // Still serving, and the cut uploads left nothing behind: a full upload now lands.
    const put = await fetch(action.href, {
      method: "PUT",
      headers: { ...action.header, Authorization: auth },
      body,
    });
    expect(put.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await server.stop(), server.log()).toBe(0);
  });
});

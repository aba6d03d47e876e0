import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, startAppProcess, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { authKeys, fileEntry, formData, token, type UploadForm } from "./helpers.ts";

const main = new URL("../src/main.ts", import.meta.url).pathname;

/** `node src/main.ts` with only the settings a first-time user gives. */
const startMain = (env: Record<string, string>) =>
  startAppProcess({
    script: main,
    env,
    ready: (record) => (record.msg === "bitstore listening" ? (record.url as string) : undefined),
  });

describe("bitstore in local-disk mode with no keys and no PUBLIC_URL (node src/main.ts)", () => {
  it("starts on loopback, and its replicas on the same folder accept each other's forms", async () => {
    await using dir = await tempDir("bitstore-main-");
    const minimal = { STORAGE_URL: dir.path, DATAHUB_PUBLIC_KEY: authKeys.publicKey, HOST: "127.0.0.1" };
    await using a = await startMain({ ...minimal, PORT: String(await freePort()) });
    await using b = await startMain({ ...minimal, PORT: String(await freePort()) });
    const res = await fetch(`${a.url}/rawstore/authorize`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
      body: JSON.stringify({
        metadata: { owner: "bob", name: "ds" },
        filedata: { "a.csv": fileEntry("x,y\n") },
      }),
    });
    expect(res.status).toBe(200);
    const form = ((await res.json()) as { filedata: Record<string, UploadForm> }).filedata["a.csv"]!;
    expect(form.upload_url).toBe(`${a.url}/rawstore/s3/store`);
    const posted = await fetch(`${b.url}/rawstore/s3/store`, {
      method: "POST",
      body: formData(form, "x,y\n"),
    });
    expect(posted.status).toBe(204);
    expect(await readFile(join(dir.path, "bob", "ds", "a.csv"), "utf8")).toBe("x,y\n");
  });

  it("says exactly what to set when it cannot tell its address (regression: a bare 'needs PUBLIC_URL')", async () => {
    await using dir = await tempDir("bitstore-main-");
    const result = await promisify(execFile)(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? "",
        STORAGE_URL: dir.path,
        DATAHUB_PUBLIC_KEY: authKeys.publicKey,
        PORT: "8123",
      },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(result).toMatchObject({ code: 2 });
    expect((result as { stderr: string }).stderr).toContain("PUBLIC_URL=http://127.0.0.1:8123");
    expect((result as { stderr: string }).stderr).not.toContain("STORAGE_ACCESS_KEY_ID");
  });
});

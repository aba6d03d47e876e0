import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { tempDir } from "@wharf/test-kit";
import { expect, it, vi } from "vitest";
import { storeBackends } from "./backends.ts";
import { startGateway } from "./harness.ts";
import { pinnedHostKey, scp, userKey, writeKnownHosts } from "./sftp-clients.ts";

const ceph = storeBackends.find((backend) => backend.name === "s3 on Ceph")!;
const totalMiB = 256;

/** The next line from `lines` that starts with `word`; throws if the output ends first. */
async function lineStarting(lines: AsyncIterator<string>, word: string): Promise<string> {
  for (let step = await lines.next(); !step.done; step = await lines.next())
    if (step.value.startsWith(word)) return step.value;
  throw new Error(`the client exited before printing "${word}"`);
}

it(`stores nothing of a ${totalMiB} MiB SFTP upload to Ceph whose client is killed half way, leaves no multipart upload, and serves another client meanwhile`, async () => {
  const opened = await ceph.open();
  await using store = { ...opened, [Symbol.asyncDispose]: opened.dispose };
  const { driver, multipartUploads } = store;
  await using dir = await tempDir("sftp-killed-");
  const pinned = await pinnedHostKey(dir.path);
  const key = await userKey(dir.path, "id_user");
  await using gateway = await startGateway({
    driver,
    hostKeys: [pinned.key],
    env: { SFTP_PORT: "0", SFTP_HOST_KEY_FILE: pinned.file, FTP_USERS__1__AUTHORIZED_KEYS: key.publicLine },
  });
  await writeKnownHosts(pinned, gateway.sftpPort!);
  const other = { port: gateway.sftpPort!, knownHosts: pinned.knownHosts, identity: key.file, user: "u" };

  const script = join(import.meta.dirname, "sftp-upload-killed.py");
  const args = [script, String(gateway.sftpPort), pinned.file, "u", "p", "killed.bin", String(totalMiB)];
  const client = spawn("/usr/bin/python3", args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(client, "exit");
  try {
    const lines = createInterface({ input: client.stdout! })[Symbol.asyncIterator]();
    await lineStarting(lines, "started");

    // another client puts and gets a file while the big upload runs
    const small = randomBytes(1_500_000);
    await writeFile(join(dir.path, "small.bin"), small);
    await scp(other, join(dir.path, "small.bin"), "u@127.0.0.1:meanwhile.bin");
    await scp(other, "u@127.0.0.1:meanwhile.bin", join(dir.path, "back.bin"));
    expect((await readFile(join(dir.path, "back.bin"))).equals(small)).toBe(true);

    const half = await lineStarting(lines, "half");
    // the server had taken half of the file in order when the client died
    expect(Number(half.split(" ")[1])).toBe((totalMiB / 2) * 2 ** 20);
    client.kill("SIGKILL");
    await exited;
  } finally {
    client.kill("SIGKILL");
  }

  await vi.waitFor(() => expect(gateway.app.sftpSessionCount()).toBe(0), { timeout: 20_000 });
  await vi.waitFor(() => expect(gateway.app.pendingAborts()).toBe(0), { timeout: 20_000 });
  await expect(driver.head("killed.bin")).rejects.toMatchObject({ code: "NOT_FOUND" });
  expect(await multipartUploads!()).toBe(0);
  expect((await driver.head("meanwhile.bin")).size).toBe(1_500_000);
}, 120_000);

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { devHostKey, loadHostKeys, sftpHostKeys } from "./host-keys.ts";

describe("host keys", () => {
  it("generates the dev key once and reads the same key on the next start", async () => {
    await using dir = await tempDir("sftp-host-");
    const first = await sftpHostKeys([], join(dir.path, "store"));
    const second = await sftpHostKeys([], join(dir.path, "store"));
    expect(first[0]?.type).toBe("ssh-ed25519");
    expect(first[0]?.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(second[0]?.fingerprint).toBe(first[0]?.fingerprint);
    const file = join(dir.path, "ftps-gateway-ssh-host-ed25519-key");
    expect((await readFile(file, "utf8")).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----")).toBe(true);
  });

  it("loads configured key files and reports a missing one with INVALID_ARGUMENT naming it", async () => {
    await using dir = await tempDir("sftp-host-");
    const made = await devHostKey(join(dir.path, "key"));
    const [loaded] = await loadHostKeys([join(dir.path, "key")]);
    expect(loaded?.fingerprint).toBe(made.fingerprint);
    await expect(loadHostKeys([join(dir.path, "absent")])).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("absent"),
    });
  });

  it("refuses a public key given as a host key", async () => {
    await using dir = await tempDir("sftp-host-");
    const file = join(dir.path, "key.pub");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      file,
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x\n",
    );
    await expect(loadHostKeys([file])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

import { describe, expect, it } from "vitest";
import { loadConfig } from "../core/config.ts";

const base = { STORAGE_URL: "memory://", FTP_USERS__1__LOGIN: "u", FTP_USERS__1__PASSWORD: "p" };
const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";
const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
};

describe("SFTP settings", () => {
  it("leaves the SFTP listener off when SFTP_PORT is unset", () => {
    expect(loadConfig(base).sftp).toBeUndefined();
  });

  it("reads the listener, host key files and per-user keys", () => {
    const config = loadConfig({
      ...base,
      SFTP_PORT: "2022",
      SFTP_HOST_KEY_FILE: "/etc/ssh/a, /etc/ssh/b",
      FTP_USERS__1__AUTHORIZED_KEYS: `# laptop\n${key}\n\n`,
      FTP_USERS__2__LOGIN: "k",
      FTP_USERS__2__AUTHORIZED_KEYS: `${key}\\n${key}`,
      FTP_USERS__2__KEYS_ONLY: "true",
    });
    expect(config.sftp).toMatchObject({
      port: 2022,
      host: "0.0.0.0",
      hostKeyFiles: ["/etc/ssh/a", "/etc/ssh/b"],
    });
    expect(config.users[0]?.authorizedKeys).toEqual([key]);
    expect(config.users[1]).toMatchObject({ login: "k", keysOnly: true, authorizedKeys: [key, key] });
  });

  it("requires a host key outside dev, and lists every problem at once", () => {
    expect(
      problems({
        ...base,
        SFTP_PORT: "2022",
        FTP_USERS__1__AUTHORIZED_KEYS: "ssh-ed25519 not-base64",
        FTP_USERS__2__LOGIN: "k",
        FTP_USERS__2__KEYS_ONLY: "true",
      }),
    ).toEqual([
      expect.stringContaining("SFTP_HOST_KEY_FILE"),
      expect.stringMatching(/FTP_USERS__1__AUTHORIZED_KEYS.*line 1/),
      expect.stringMatching(/FTP_USERS__2__KEYS_ONLY.*AUTHORIZED_KEYS/),
    ]);
    expect(loadConfig({ ...base, SFTP_PORT: "2022", WHARF_DEV: "1" }).sftp?.hostKeyFiles).toEqual([]);
  });
});

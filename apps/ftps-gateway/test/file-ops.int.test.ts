import { PassThrough, Readable } from "node:stream";
import { readAll } from "@wharf/storage-driver";
import { tempDir } from "@wharf/test-kit";
import ssh2, { type SFTPWrapper } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeBackends } from "./backends.ts";
import { basicFtp } from "./clients.ts";
import { type Gateway, startGateway } from "./harness.ts";
import { pinnedHostKey } from "./sftp-clients.ts";

/** The file operations both protocols offer, as a client sees them. */
interface FileOps {
  mkdir(path: string): Promise<unknown>;
  put(path: string, body: string): Promise<unknown>;
  get(path: string): Promise<string>;
  size(path: string): Promise<number>;
  list(path: string): Promise<string[]>;
  rename(from: string, to: string): Promise<unknown>;
  remove(path: string): Promise<unknown>;
  rmdir(path: string): Promise<unknown>;
  close(): void;
}

async function ftpOps(gateway: Gateway): Promise<FileOps> {
  const ftp = await basicFtp(gateway);
  return {
    mkdir: (path) => ftp.send(`MKD ${path}`),
    put: (path, body) => ftp.uploadFrom(Readable.from([Buffer.from(body)]), path),
    get: async (path) => {
      const sink = new PassThrough();
      const [, bytes] = await Promise.all([ftp.downloadTo(sink, path), readAll(sink)]);
      return bytes.toString();
    },
    size: (path) => ftp.size(path),
    list: async (path) =>
      (await ftp.list(path)).map((entry) => `${entry.name}${entry.isDirectory ? "/" : ""}`).sort(),
    rename: (from, to) => ftp.rename(from, to),
    remove: (path) => ftp.remove(path),
    rmdir: (path) => ftp.send(`RMD ${path}`),
    close: () => ftp.close(),
  };
}

async function sftpOps(gateway: Gateway, hostKey: Buffer): Promise<FileOps> {
  const connection = new ssh2.Client();
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    connection.once("error", reject);
    connection.once("ready", () =>
      connection.sftp((error, wrapper) => (error ? reject(error) : resolve(wrapper))),
    );
    connection.connect({
      host: "127.0.0.1",
      port: gateway.sftpPort,
      username: "u",
      password: "p",
      hostVerifier: (key: Buffer) => key.equals(hostKey),
    });
  });
  const call = <T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as T))));
  return {
    mkdir: (path) => call((done) => sftp.mkdir(path, done)),
    put: (path, body) => call((done) => sftp.writeFile(path, body, done)),
    get: async (path) => (await call<Buffer>((done) => sftp.readFile(path, done))).toString(),
    size: async (path) => (await call<{ size: number }>((done) => sftp.stat(path, done))).size,
    list: async (path) =>
      (
        await call<{ filename: string; attrs: { isDirectory(): boolean } }[]>((done) =>
          sftp.readdir(path, done),
        )
      )
        .map((entry) => `${entry.filename}${entry.attrs.isDirectory() ? "/" : ""}`)
        .sort(),
    rename: (from, to) => call((done) => sftp.rename(from, to, done)),
    remove: (path) => call((done) => sftp.unlink(path, done)),
    rmdir: (path) => call((done) => sftp.rmdir(path, done)),
    close: () => connection.end(),
  };
}

/** Runs the same operations in `base` and records each outcome ("refused" for any protocol error). */
async function scenario(ops: FileOps, base: string): Promise<unknown[]> {
  const steps: Array<() => Promise<unknown>> = [
    () => ops.mkdir(base),
    () => ops.mkdir(base),
    () => ops.put(`${base}/a.txt`, "hello"),
    () => ops.size(`${base}/a.txt`),
    () => ops.list(base),
    () => ops.mkdir(`${base}/sub`),
    () => ops.put(`${base}/sub/b.txt`, "x"),
    () => ops.rmdir(`${base}/sub`),
    () => ops.rename(`${base}/a.txt`, `${base}/c.txt`),
    () => ops.get(`${base}/c.txt`),
    () => ops.get(`${base}/a.txt`),
    () => ops.list(base),
    () => ops.rename(`${base}/sub`, `${base}/sub2`),
    () => ops.list(`${base}/sub2`),
    () => ops.remove(`${base}/missing.txt`),
    () => ops.get(`${base}/../../../${base}/c.txt`),
    () => ops.remove(`${base}/sub2/b.txt`),
    () => ops.rmdir(`${base}/sub2`),
    () => ops.remove(`${base}/c.txt`),
    () => ops.rmdir(base),
    () => ops.list(base),
  ];
  const results: unknown[] = [];
  for (const step of steps) {
    const value = await step().then(
      (v) => (typeof v === "string" || typeof v === "number" || Array.isArray(v) ? v : "ok"),
      () => "refused",
    );
    results.push(value);
  }
  return results;
}

describe.each(storeBackends)("the same file operations through FTP and SFTP on $name", (backend) => {
  let gateway: Gateway;
  let dispose: () => Promise<void>;
  let hostBlob: Buffer;
  let keys: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    const opened = await backend.open();
    dispose = opened.dispose;
    keys = await tempDir("sftp-keys-");
    const pinned = await pinnedHostKey(keys.path);
    const parsed = ssh2.utils.parseKey(pinned.key.pem);
    if (parsed instanceof Error) throw parsed;
    hostBlob = parsed.getPublicSSH();
    gateway = await startGateway({
      driver: opened.driver,
      hostKeys: [pinned.key],
      env: { SFTP_PORT: "0", SFTP_HOST_KEY_FILE: pinned.file },
    });
  });
  afterAll(async () => {
    await gateway?.[Symbol.asyncDispose]();
    await keys?.[Symbol.asyncDispose]();
    await dispose?.();
  });

  it("gives the same results, entry by entry", async () => {
    const ftp = await ftpOps(gateway);
    const sftp = await sftpOps(gateway, hostBlob);
    try {
      const viaFtp = await scenario(ftp, "ops-ftp");
      const viaSftp = await scenario(sftp, "ops-sftp");
      expect(viaSftp).toEqual(viaFtp);
      expect(viaFtp).toEqual([
        "ok",
        "refused",
        "ok",
        5,
        ["a.txt"],
        "ok",
        "ok",
        "refused",
        "ok",
        "hello",
        "refused",
        ["c.txt", "sub/"],
        "ok",
        ["b.txt"],
        "refused",
        "hello",
        "ok",
        "ok",
        "ok",
        "ok",
        "refused",
      ]);
    } finally {
      ftp.close();
      sftp.close();
    }
  });
});

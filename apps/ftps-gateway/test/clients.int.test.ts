import { randomBytes } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { readAll, type StorageDriver } from "@wharf/storage-driver";
import { Client } from "basic-ftp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeBackends as backends } from "./backends.ts";
import { basicFtp, curl, ftplib, lftp } from "./clients.ts";
import { type Gateway, startGateway } from "./harness.ts";

describe.each(backends)("real clients on $name", (backend) => {
  let gateway: Gateway;
  let dispose: () => Promise<void>;
  let work: string;
  let data: Buffer;
  let file: string;
  let driver: StorageDriver;
  let root: string | undefined;

  beforeAll(async () => {
    const opened = await backend.open();
    dispose = opened.dispose;
    driver = opened.driver;
    root = opened.root;
    gateway = await startGateway({ driver: opened.driver });
    work = gateway.dir;
    data = randomBytes(1_500_000);
    file = join(work, "data.bin");
    await writeFile(file, data);
  });
  afterAll(async () => {
    await gateway?.[Symbol.asyncDispose]();
    await dispose?.();
  });

  it("python ftplib (explicit FTPS, stock: no session reuse) uploads, resumes, lists, renames and deletes", async () => {
    const result = JSON.parse((await ftplib(gateway, "explicit", "py-explicit")).stdout);
    expect(result).toMatchObject({ size: 300_000, same: true, tail_same: true, pwd: "/" });
    expect(result.nlst).toContain("renamed");
    expect(result.mlsd).toEqual([["file £.bin", "file"]]);
    expect(result.list[0]).toMatch(/^-rw-rw-rw- 1 none none 300000 \w{3} [ \d]\d [ \d]\d:\d\d file £\.bin$/);
  });

  it("python ftplib works on the implicit FTPS port", async () => {
    const result = JSON.parse((await ftplib(gateway, "implicit", "py-implicit")).stdout);
    expect(result).toMatchObject({ same: true, tail_same: true });
  });

  it("curl uploads, lists, downloads and resumes both ways (APPE, REST+RETR) over explicit FTPS", async () => {
    const half = join(work, "half.bin");
    await writeFile(half, data.subarray(0, 600_000));
    await curl(gateway, "explicit", "/curl/data.bin", ["--ftp-create-dirs", "-T", half]);
    await curl(gateway, "explicit", "/curl/data.bin", ["-C", "-", "-T", file]);
    const out = join(work, "curl-out.bin");
    await writeFile(out, data.subarray(0, 1_000_000));
    await curl(gateway, "explicit", "/curl/data.bin", ["-C", "-", "-o", out]);
    expect((await readFile(out)).equals(data)).toBe(true);
    const listing = await curl(gateway, "explicit", "/curl/", ["--disable-epsv"]);
    expect(listing.stdout).toMatch(/^-rw-rw-rw- .* 1500000 .* data\.bin\r?$/m);
    const names = await curl(gateway, "explicit", "/curl/", ["-l"]);
    expect(names.stdout.trim()).toBe("data.bin");
    await curl(gateway, "explicit", "/", ["-Q", "DELE curl/data.bin", "-Q", "RMD curl", "-l"]);
  });

  it("curl works on the implicit FTPS port", async () => {
    await curl(gateway, "implicit", "/curl-implicit.bin", ["-T", file]);
    const out = join(work, "curl-implicit.out");
    await curl(gateway, "implicit", "/curl-implicit.bin", ["-o", out]);
    expect((await readFile(out)).equals(data)).toBe(true);
  });

  it("lftp (MLSD, TLS session reuse) puts, resumes (REST+STOR and REST+RETR), renames and removes", async () => {
    const half = join(work, "lftp-half.bin");
    await writeFile(half, data.subarray(0, 700_000));
    const partial = join(work, "lftp-partial.bin");
    await writeFile(partial, data.subarray(0, 200_000));
    const full = join(work, "lftp-full.bin");
    await writeFile(full, data);
    const result = await lftp(
      gateway,
      "explicit",
      [
        "mkdir lftp",
        "cd lftp",
        `put ${half} -o data.bin`,
        `put -c ${full} -o data.bin`,
        `get -c data.bin -o ${partial}`,
        "mkdir inner",
        "mv data.bin inner/moved.bin",
        "mv inner renamed",
        "cls -l renamed",
        "rm renamed/moved.bin",
        "rmdir renamed",
        "cd ..",
        "rmdir lftp",
        "cls -1",
      ].join("; "),
    );
    expect(result.stdout).toMatch(/moved\.bin/);
    expect((await readFile(partial)).equals(data)).toBe(true);
    const before = await (await fetch(`${gateway.healthUrl}/metrics`)).text();
    expect(before).toMatch(/ftps_gateway_tls_data_connections_total\{reused="true"\} [1-9]/);
  });

  it("lftp works on the implicit FTPS port", async () => {
    const out = join(work, "lftp-implicit.out");
    await lftp(
      gateway,
      "implicit",
      `put ${file} -o lftp-implicit.bin; get lftp-implicit.bin -o ${out}; rm lftp-implicit.bin`,
    );
    expect((await readFile(out)).equals(data)).toBe(true);
  });

  const login = (ftp: Client) => basicFtp(gateway, { ftp });

  it("basic-ftp uploads, appends, downloads from an offset, lists and cleans up", async () => {
    const ftp = new Client(30_000);
    try {
      await login(ftp);
      await ftp.ensureDir("basic/nested");
      await ftp.uploadFrom(join(work, "data.bin"), "first.bin");
      await ftp.appendFrom(join(work, "data.bin"), "first.bin");
      const out = join(work, "basic.out");
      await writeFile(out, data);
      await ftp.downloadTo(out, "first.bin", 1_500_000);
      expect((await readFile(out)).equals(Buffer.concat([data, data]))).toBe(true);
      expect(await ftp.size("first.bin")).toBe(3_000_000);
      await ftp.rename("first.bin", "second.bin");
      const listing = await ftp.list();
      expect(listing.map((entry) => [entry.name, entry.size])).toEqual([["second.bin", 3_000_000]]);
      await ftp.cd("/");
      await ftp.removeDir("basic");
      expect((await ftp.list()).map((entry) => entry.name)).not.toContain("basic");
    } finally {
      ftp.close();
    }
  });

  it("basic-ftp renames a file over another and a folder with everything in it (rename(2) on fs)", async () => {
    const ftp = new Client(10_000);
    const inode = async (path: string) => (root ? (await stat(join(root, path))).ino : undefined);
    try {
      await login(ftp);
      await ftp.ensureDir("/mv/src/deep");
      await ftp.uploadFrom(Readable.from([Buffer.from("deep file")]), "leaf.txt");
      await ftp.cd("/mv");
      await ftp.uploadFrom(Readable.from([Buffer.from("new")]), "a.txt");
      await ftp.uploadFrom(Readable.from([Buffer.from("old")]), "b.txt");
      const fileInode = await inode("mv/a.txt");
      const folderInode = await inode("mv/src");
      await ftp.rename("a.txt", "b.txt");
      await ftp.rename("src", "dst");
      expect((await ftp.list()).map((entry) => `${entry.isDirectory ? "d" : "f"}:${entry.name}`)).toEqual([
        "f:b.txt",
        "d:dst",
      ]);
      expect((await readAll((await driver.get("mv/b.txt")).body)).toString()).toBe("new");
      expect((await readAll((await driver.get("mv/dst/deep/leaf.txt")).body)).toString()).toBe("deep file");
      await expect(driver.head("mv/src/deep/leaf.txt")).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(driver.head("mv/a.txt")).rejects.toMatchObject({ code: "NOT_FOUND" });
      // Same inodes: the file and the folder were moved by rename(2), not copied.
      expect(await inode("mv/b.txt")).toBe(fileInode);
      expect(await inode("mv/dst")).toBe(folderInode);
      await expect(ftp.rename("dst", "b.txt")).rejects.toMatchObject({ code: 550 });
    } finally {
      ftp.close();
    }
  });
});

/** Upload bytes the gateway counted on its data connections (its /metrics). */
async function uploadedBytes(gateway: Gateway): Promise<number> {
  const text = await (await fetch(`${gateway.healthUrl}/metrics`)).text();
  return Number(
    /ftps_gateway_transfer_bytes_total\{protocol="ftp",direction="upload"\} (\d+)/.exec(text)?.[1] ?? 0,
  );
}

describe.each(backends)("plain FTP when TLS is not required, on $name", (backend) => {
  let gateway: Gateway;
  let driver: StorageDriver;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const opened = await backend.open();
    driver = opened.driver;
    dispose = opened.dispose;
    gateway = await startGateway({ driver, env: { FTP_TLS_REQUIRED: "false" } });
  });
  afterAll(async () => {
    await gateway?.[Symbol.asyncDispose]();
    await dispose?.();
  });

  it("serves curl, lftp and ftplib without TLS", async () => {
    const file = join(gateway.dir, "plain.bin");
    const data = randomBytes(200_000);
    await writeFile(file, data);
    await curl(gateway, "plain", "/plain.bin", ["-T", file]);
    const out = join(gateway.dir, "plain.out");
    await lftp(gateway, "plain", `get plain.bin -o ${out}`);
    expect((await readFile(out)).equals(data)).toBe(true);
    const result = JSON.parse((await ftplib(gateway, "plain", "py-plain")).stdout);
    expect(result.same).toBe(true);
  });

  // On S3 a plain upload is read from the socket straight into the 5 MiB part buffers; a resumed
  // one (REST + STOR after the kept prefix) reads the same connection as a stream.
  it("stores a multipart-sized upload and a resumed one byte for byte", async () => {
    const file = join(gateway.dir, "parts.bin");
    const data = randomBytes(12 * 1024 * 1024 + 12_345);
    await writeFile(file, data);
    await curl(gateway, "plain", "/parts.bin", ["-T", file]);
    expect((await readAll((await driver.get("parts.bin")).body, { maxBytes: 64 << 20 })).equals(data)).toBe(
      true,
    );
    const kept = 6 * 1024 * 1024 + 7;
    await driver.put("resumed.bin", data.subarray(0, kept));
    const before = await uploadedBytes(gateway);
    await curl(gateway, "plain", "/resumed.bin", ["-C", "-", "-T", file]);
    // Only the rest crossed the data connection.
    expect((await uploadedBytes(gateway)) - before).toBe(data.length - kept);
    expect((await readAll((await driver.get("resumed.bin")).body, { maxBytes: 64 << 20 })).equals(data)).toBe(
      true,
    );
  });
});

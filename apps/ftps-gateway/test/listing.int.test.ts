import { stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { silentLogger } from "@wharf/http-kit";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import { createTestBucket, s3Env, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { listLine } from "../src/core/listing.ts";
import { openGatewayStorage } from "../src/core/storage.ts";
import type { FolderTime } from "../src/core/vfs.ts";
import { aioftps3Line } from "../src/ftp/listing-format.ts";
import { client, curl } from "./clients.ts";
import { startGateway } from "./harness.ts";

interface Store extends AsyncDisposable {
  readonly driver: StorageDriver;
  readonly folderTime?: FolderTime;
  /** fs only: the folder on disk. */
  readonly root?: string;
}

const backends: { name: string; open: () => Promise<Store> }[] = [
  {
    name: "fs",
    async open() {
      const dir = await tempDir("ftps-list-");
      const { driver, folderTime } = await openGatewayStorage(
        { storageUrl: `file://${dir.path}`, verifyCerts: true, caBundle: undefined },
        silentLogger(),
      );
      return {
        driver,
        ...(folderTime ? { folderTime } : {}),
        root: dir.path,
        [Symbol.asyncDispose]: async () => {
          await driver.close();
          await dir[Symbol.asyncDispose]();
        },
      };
    },
  },
  {
    name: "s3 on Ceph",
    async open() {
      const env = s3Env();
      const bucket = await createTestBucket("ftps-list");
      const driver = await openStorage(
        `s3://${bucket.name}?endpoint=${encodeURIComponent(env.endpoint)}&region=${env.region}&forcePathStyle=true`,
        { credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey } },
      );
      return {
        driver,
        [Symbol.asyncDispose]: async () => {
          await driver.close();
          await bucket[Symbol.asyncDispose]();
        },
      };
    },
  },
];

const lines = (text: string) => text.split(/\r?\n/).filter(Boolean);
const spring2021 = new Date("2021-03-03T04:05:00Z");

describe.each(backends)("LIST and NLST on $name", (backend) => {
  async function fill(store: Store, port: number, caFile: string) {
    for (const [key, body] of [
      ["a.txt", "abc"],
      ["b.csv", "1,2"],
      ["old/inside.txt", "x"],
      ["sub/c.csv", "3,4"],
      ["sub/d.txt", "y"],
    ] as const)
      await store.driver.put(key, body);
    if (store.root) await utimes(join(store.root, "old"), spring2021, spring2021);
    await curl({ port, implicitPort: 0, caFile }, "explicit", "/", ["-Q", "MKD made"]);
    // What the store knows of `made`: its folder on disk, else its marker object.
    return store.root
      ? (await stat(join(store.root, "made"))).mtime
      : (await store.driver.head("made/.s3keep")).lastModified;
  }

  it("shows folders with the time the store knows (regression: 1 January 1970 everywhere)", async () => {
    await using store = await backend.open();
    await using gw = await startGateway({
      driver: store.driver,
      ...(store.folderTime ? { folderTime: store.folderTime } : {}),
    });
    const made = await fill(store, gw.port, gw.caFile);
    const listed = lines((await curl(gw, "explicit", "/")).stdout);
    expect(listed).toContain(listLine({ name: "made", type: "dir", size: 0, modified: made }, new Date()));
    const old = listed.find((line) => line.endsWith(" old")) ?? "";
    if (store.root) expect(old).toBe("drwxrwxrwx 1 none none 0 Mar  3  2021 old");
    else expect(old).not.toContain("1970");
  });

  it("lists as aioftps3 did with FTP_LIST_FORMAT=aioftps3: folders first, p files, %b %e %H:%M", async () => {
    await using store = await backend.open();
    await using gw = await startGateway({
      driver: store.driver,
      env: { FTP_LIST_FORMAT: "aioftps3" },
      ...(store.folderTime ? { folderTime: store.folderTime } : {}),
    });
    const made = await fill(store, gw.port, gw.caFile);
    const listed = lines((await curl(gw, "explicit", "/")).stdout);
    const file = async (name: string) =>
      aioftps3Line({ name, type: "file", size: 3, modified: (await store.driver.head(name)).lastModified });
    expect(listed).toHaveLength(5);
    expect(listed[0]).toBe(aioftps3Line({ name: "made", type: "dir", size: 0, modified: made }));
    expect(listed[1]).toMatch(
      store.root
        ? /^drwxrwxrwx 1 none none 0 Mar {2}3 04:05 old$/
        : /^drwxrwxrwx 1 none none 0 \w{3} [ \d]\d \d\d:\d\d old$/,
    );
    expect(listed[2]).toMatch(/^drwxrwxrwx 1 none none 0 .* sub$/);
    expect(listed.slice(3)).toEqual([await file("a.txt"), await file("b.csv")]);
    expect(listed[3]).toMatch(/^prw-rw-rw- 1 none none 3 \w{3} [ \d]\d \d\d:\d\d a\.txt$/);
  });

  it("answers simple globs in NLST and LIST as ftplib sends them (regression: NLST * was 550)", async () => {
    await using store = await backend.open();
    await using gw = await startGateway({ driver: store.driver });
    await fill(store, gw.port, gw.caFile);
    const script = join(import.meta.dirname, "ftplib-list.py");
    const { stdout } = await client("/usr/bin/python3", [
      script,
      String(gw.port),
      gw.caFile,
      "*.csv",
      "*",
      "sub/*.csv",
      "LIST *.csv",
    ]);
    const answers = JSON.parse(stdout) as Record<string, string[]>;
    expect(answers["*.csv"]).toEqual(["b.csv"]);
    expect(answers["*"]).toEqual(["a.txt", "b.csv", "made", "old", "sub"]);
    expect(answers["sub/*.csv"]).toEqual(["sub/c.csv"]);
    expect(answers["LIST *.csv"]).toEqual([expect.stringMatching(/^-rw-rw-rw- 1 none none 3 .* b\.csv$/)]);
  });
});

import { createHash, createHmac } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { serveHttp } from "@wharf/http-kit";
import { openStorage, readAll } from "@wharf/storage-driver";
import { createTestBucket, s3Env, tempDir } from "@wharf/test-kit";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { nodeFetch } from "../src/http.ts";
import { probeSha256Enforcement } from "../src/probe.ts";
import { gitUser } from "./git.ts";

const objectKey = (repo: string, oid: string) => `${repo}/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
const pointer = (oid: string, size: number) =>
  `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`;

/** What timone's users minted with `pyjwt --key=… encode`: HS256, the claims as given, nothing added. */
function pyjwtEncode(claims: Record<string, unknown>, secret: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signed = `${part({ typ: "JWT", alg: "HS256" })}.${part(claims)}`;
  return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
}

describe("a bucket timone filled, served by lfs-router configured with timone's variables", () => {
  it("clones what timone stored under org/<name>.git and pushes where timone looks, with timone's token", async () => {
    const s3 = s3Env();
    await using bucket = await createTestBucket("lfs-timone");
    // timone's own environment, its README's short secret included.
    const config = loadConfig({
      TIMONE_TOKEN_SECRET: "mykey",
      TIMONE_STORAGE: "S3StorageDriver",
      TIMONE_STORAGE_S3_URL: s3.endpoint,
      TIMONE_STORAGE_S3_REGION: s3.region,
      TIMONE_STORAGE_S3_BUCKET: bucket.name,
      TIMONE_STORAGE_S3_KEY: s3.accessKeyId,
      TIMONE_STORAGE_S3_SECRET: s3.secretAccessKey,
    });
    const driver = await openStorage(config.storageUrl, {
      ...(config.s3Credentials ? { credentials: config.s3Credentials } : {}),
    });
    try {
      // What timone stored for `…/org/my%20café.git/info/lfs`: the URL's own text as the key.
      const repo = "org/my café.git";
      const seeded = Buffer.from("stored by timone\n".repeat(100));
      const seededOid = createHash("sha256").update(seeded).digest("hex");
      await driver.put(objectKey(repo, seededOid), seeded);

      const storeEnforcesSha256 = await probeSha256Enforcement(driver, "");
      const app = createApp({ config, driver, mode: "direct", storeEnforcesSha256 });
      await using server = await serveHttp(nodeFetch(app), { port: 0, host: "127.0.0.1" });
      const lfsUrl = `${server.url}/org/my%20caf%C3%A9.git/info/lfs`;

      await using dir = await tempDir("lfs-timone-");
      const remote = join(dir.path, "remote.git");
      await mkdir(remote);
      // A timone token: HS256 over `{username}` only, no scope, no expiry.
      const timoneToken = pyjwtEncode({ username: "bob" }, "mykey");
      const bob = await gitUser(dir.path, "bob", server.url, timoneToken);
      await bob.ok(["init", "--bare", "-q", remote], dir.path);

      // The history that went with it: a pointer committed without the LFS hooks (nothing to upload).
      const seed = join(dir.path, "seed");
      await mkdir(seed);
      await bob.ok(["init", "-q"], seed);
      await writeFile(join(seed, ".gitattributes"), "*.bin filter=lfs diff=lfs merge=lfs -text\n");
      await writeFile(join(seed, ".lfsconfig"), `[lfs]\n\turl = ${lfsUrl}\n`);
      await writeFile(join(seed, "seeded.bin"), pointer(seededOid, seeded.length));
      await bob.ok(["add", "."], seed);
      await bob.ok(["commit", "-q", "-m", "seed"], seed);
      await bob.ok(["push", "-q", remote, "main"], seed);

      const clone = join(dir.path, "clone");
      await bob.ok(["clone", "-q", remote, clone], dir.path);
      expect(await readFile(join(clone, "seeded.bin"))).toEqual(seeded);

      await bob.ok(["lfs", "install", "--local"], clone);
      const pushed = Buffer.from("pushed through lfs-router\n".repeat(100));
      const pushedOid = createHash("sha256").update(pushed).digest("hex");
      await writeFile(join(clone, "pushed.bin"), pushed);
      await bob.ok(["add", "pushed.bin"], clone);
      await bob.ok(["commit", "-q", "-m", "push"], clone);
      await bob.ok(["push", "-q", "origin", "main"], clone);
      // Where timone would look for it.
      expect(await readAll((await driver.get(objectKey(repo, pushedOid))).body)).toEqual(pushed);
    } finally {
      await driver.close();
    }
  });
});

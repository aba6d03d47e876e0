import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gitUser, initRepo, sha256File, writeFileOfSize } from "../../apps/lfs-router/test/git.ts";
import { createIssuer } from "../../packages/auth-jwt/src/index.ts";
import { createTestBucket, freePort, s3Env, tempDir } from "../../packages/test-kit/src/index.ts";
import { imageOf, startContainer } from "./container.ts";

const secret = "image-test-secret-0123456789abcdef";

describe("the lfs-router image", () => {
  it("serves git-lfs push and clone on Ceph as non-root with a read-only root, and drains on SIGTERM", async () => {
    const s3 = s3Env();
    await using bucket = await createTestBucket("image-lfs");
    await using dir = await tempDir("image-lfs-");
    const port = await freePort();
    const query = new URLSearchParams({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: "true" });
    const router = await startContainer({
      image: imageOf("lfs-router"),
      env: {
        PORT: String(port),
        STORAGE_URL: `s3://${bucket.name}/lfs/?${query}`,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        JWT_SECRET: secret,
      },
      ready: /"msg":"listening"/,
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      const issuer = createIssuer({ algorithm: "HS256", secret });
      const mint = (username: string) =>
        issuer.issue({ username, scope: "org/*:write" }, { expiresIn: "1h" });
      const alice = await gitUser(dir.path, "alice", url, await mint("alice"));
      const bob = await gitUser(dir.path, "bob", url, await mint("bob"));

      const bare = join(dir.path, "remote.git");
      await alice.ok(["init", "-q", "--bare", bare], dir.path);
      const work = join(dir.path, "work");
      await initRepo(alice, work, bare, `${url}/org/app/info/lfs`);
      const small = await writeFileOfSize(join(work, "small.bin"), 1000, "image-small");
      const large = await writeFileOfSize(join(work, "large.bin"), 3 * 1024 * 1024 + 7, "image-large");
      await alice.ok(["add", "."], work);
      await alice.ok(["commit", "-q", "-m", "assets"], work);
      await alice.ok(["push", "-q", "origin", "main"], work);

      const clone = join(dir.path, "clone");
      await bob.ok(["clone", "-q", bare, clone], dir.path);
      expect(await sha256File(join(clone, "small.bin"))).toBe(small);
      expect(await sha256File(join(clone, "large.bin"))).toBe(large);
    } finally {
      const { code, lines } = await router.stop();
      expect(code).toBe(0);
      expect(lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
    }
  });
});

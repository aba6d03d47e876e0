import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createTestBucket, s3Env, tempDir } from "../../packages/test-kit/src/index.ts";
import { imageOf, runContainer } from "./container.ts";

describe("the tycho image", () => {
  it("pushes and pulls a package on Ceph from two containers, as non-root with a read-only root", async () => {
    const s3 = s3Env();
    await using bucket = await createTestBucket("image-tycho");
    await using dir = await tempDir("image-tycho-");
    const config = {
      tycho: { backend: "s3", outdir: "tycho_packages" },
      s3: { bucket: bucket.name, region_name: s3.region, endpoint_url: s3.endpoint },
    };
    const credentials = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
    const folders = { pusher: join(dir.path, "pusher"), puller: join(dir.path, "puller") };
    for (const folder of Object.values(folders)) {
      await mkdir(folder);
      await chmod(folder, 0o777); // the image's user (1000) writes its downloads here
      await writeFile(join(folder, ".tychoreg.json"), JSON.stringify(config));
    }
    await writeFile(join(folders.pusher, "narf.tar.gz"), "narf 1.0.0\n");
    const tycho = (folder: string, ...args: string[]) =>
      runContainer({
        image: imageOf("tycho"),
        env: { ...credentials, TYCHO_USER: "ci@image" },
        volumes: [`${folder}:/work`],
        args,
      });

    expect(await tycho(folders.pusher, "init", "narf", "narf.tar.gz")).toMatchObject({ code: 0 });
    const pushed = await tycho(folders.pusher, "push", "narf", "1.0.0", "narf.tar.gz", "--promote-latest");
    expect(pushed, pushed.stderr).toMatchObject({ code: 0 });
    const pulled = await tycho(folders.puller, "pull", "narf");
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain("Pulling: narf 1.0.0 -> tycho_packages/narf.tar.gz");
    expect(await readFile(join(folders.puller, "tycho_packages/narf.tar.gz"), "utf8")).toBe("narf 1.0.0\n");
    const missing = await tycho(folders.puller, "pull", "zort");
    expect(missing).toMatchObject({ code: 4, stderr: "Not Initialized: zort\n" });
  });
});

import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { blobsOfImages, total } from "../../apps/registry-usage/test/fixture.ts";
import {
  buildOciLayout,
  freePort,
  ldapEnv,
  ldapFixture,
  registryEnv,
  skopeoCopy,
  tempDir,
} from "../../packages/test-kit/src/index.ts";
import { imageOf, startContainer } from "./container.ts";

describe("the registry-usage image", () => {
  it("logs in over LDAPS and reports the registry's usage, as non-root with a read-only root", async () => {
    await using dir = await tempDir("image-ru-");
    await chmod(dir.path, 0o755);
    const store = join(dir.path, "store");
    await mkdir(store);
    await chmod(store, 0o777); // the image's user (1000) keeps its snapshots here
    const registry = registryEnv();
    const repository = `image-test/app-${Date.now().toString(36)}`;
    const layout = await buildOciLayout(join(dir.path, "oci"), [
      { ref: "x", image: { layers: [{ seed: `image-${repository}`, size: 5000 }] } },
    ]);
    await skopeoCopy({ layout, ref: "x", registry: registry.host, repository, tag: "1" });
    const ldap = ldapEnv();
    await writeFile(join(dir.path, "ca.pem"), ldap.ca);
    const port = await freePort();
    await writeFile(
      join(dir.path, "registry-usage.conf"),
      `[general]
[ldap]
host = ${ldap.ldapsUrl}
base_dn = ${ldap.baseDn}
valid_gid = ${ldapFixture.users.alice.gidNumber}
ca_file = /config/ca.pem
[jwt]
secret_key = image-test-secret-0123456789
[registry]
registry_base_url = ${registry.url}/
username =
access_token =
[storage]
url = /store
`,
    );
    await using server = await startContainer({
      image: imageOf("registry-usage"),
      env: {
        REGISTRY_USAGE_CONFIG: "/config/registry-usage.conf",
        PORT: String(port),
        REGISTRY_USAGE_GENERAL_SERVER_PREFIX: "/usage",
      },
      volumes: [`${dir.path}:/config:ro`, `${store}:/store`],
      ready: /"msg":"listening"/,
    });
    const url = `http://127.0.0.1:${port}/usage`;
    const alice = `Basic ${Buffer.from(`alice:${ldapFixture.users.alice.password}`).toString("base64")}`;
    const login = await fetch(`${url}/auth_token`, { headers: { authorization: alice } });
    expect(login.status).toBe(200);
    const { auth_token: token } = (await login.json()) as { auth_token: string };
    const wrong = `Basic ${Buffer.from("alice:wrong").toString("base64")}`;
    expect((await fetch(`${url}/auth_token`, { headers: { authorization: wrong } })).status).toBe(401);

    // The first scan runs in the background after start; its report appears when it completes.
    let size: number | undefined;
    for (let attempt = 0; attempt < 200 && size === undefined; attempt++) {
      const res = await fetch(`${url}/repositories/${encodeURIComponent(repository)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status === 200) size = ((await res.json()) as { size: number }).size;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(size).toBe(total(blobsOfImages(layout.refs.x!.images)));
    const stopped = await server.stop();
    expect(stopped.code, stopped.lines.join("\n")).toBe(0); // drained on SIGTERM
  });
});

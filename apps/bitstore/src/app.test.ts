import { createHmac } from "node:crypto";
import { recordingLogger } from "@wharf/http-kit";
import { createMemoryDriver, readAll, type StorageDriver } from "@wharf/storage-driver";
import { beforeEach, describe, expect, it } from "vitest";
import {
  authKeys,
  buildApp,
  fileEntry,
  formData,
  md5,
  otherKeys,
  token,
  type UploadForm,
} from "../test/helpers.ts";

type App = ReturnType<typeof buildApp>;
interface Authorized {
  filedata: Record<string, UploadForm & { exists: boolean; "md5-hash": string; name: string; type: string }>;
}

let driver: StorageDriver;
let app: App;

beforeEach(() => {
  driver = createMemoryDriver();
  app = buildApp({ driver });
});

async function authorize(
  target: App,
  body: unknown,
  auth: { token?: string; via?: "header" | "query" } = {},
): Promise<Response> {
  const jwt = auth.token ?? (await token("bob"));
  const query = auth.via === "query" ? `?jwt=${jwt}` : "";
  return target.request(`/rawstore/authorize${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(auth.via === "query" ? {} : { "Auth-Token": jwt }) },
    body: JSON.stringify(body),
  });
}

const request = (filedata: Record<string, unknown>, owner = "bob") => ({
  metadata: { owner, name: "cities" },
  filedata,
});

async function upload(target: App, form: UploadForm, body: Uint8Array | string, type?: string) {
  const url = new URL(form.upload_url);
  return target.request(url.pathname, { method: "POST", body: formData(form, body, type) });
}

function policyOf(form: UploadForm) {
  return JSON.parse(Buffer.from(form.upload_query.policy as string, "base64").toString("utf8")) as {
    expiration: string;
    conditions: unknown[];
  };
}

describe("POST /rawstore/authorize", () => {
  it("answers one README-shaped form per file, keyed by path", async () => {
    const res = await authorize(app, request({ "data/a.csv": fileEntry("a,b\n1,2\n") }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Authorized;
    const entry = body.filedata["data/a.csv"]!;
    expect(entry).toMatchObject({
      "md5-hash": md5("a,b\n1,2\n"),
      name: "data.csv",
      type: "text/csv",
      exists: false,
    });
    expect(entry.upload_url).toBe("http://bitstore.test/rawstore/s3/store");
    expect(Object.keys(entry.upload_query).sort()).toEqual(
      [
        "Content-MD5",
        "Content-Type",
        "acl",
        "key",
        "policy",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-signature",
      ].sort(),
    );
    expect(entry.upload_query).toMatchObject({
      key: "bob/cities/data/a.csv",
      acl: "public-read",
      "Content-Type": "text/csv",
      "x-amz-algorithm": "AWS4-HMAC-SHA256",
    });
  });

  it("binds the exact key, the declared length, Content-MD5, Content-Type and acl in the policy", async () => {
    const res = await authorize(app, request({ "a.csv": fileEntry("12345") }));
    const form = ((await res.json()) as Authorized).filedata["a.csv"]!;
    const { conditions } = policyOf(form);
    expect(conditions).toContainEqual(["content-length-range", 5, 5]);
    expect(conditions).toContainEqual({ key: "bob/cities/a.csv" });
    expect(conditions).toContainEqual({ "Content-MD5": md5("12345") });
    expect(conditions).toContainEqual({ "Content-Type": "text/csv" });
    expect(conditions).toContainEqual({ acl: "public-read" });
  });

  it("defaults the type to text/plain and makes private datasets private", async () => {
    const { type: _type, ...untyped } = fileEntry("x");
    const res = await authorize(app, {
      metadata: { owner: "bob", name: "d", findability: "private" },
      filedata: { "x.txt": untyped },
    });
    const form = ((await res.json()) as Authorized).filedata["x.txt"]!;
    expect(form.upload_query["Content-Type"]).toBe("text/plain");
    expect(form.upload_query.acl).toBe("private");
  });

  it("accepts the token from the jwt query parameter and on POST /rawstore/", async () => {
    expect((await authorize(app, request({ "a.csv": fileEntry("a") }), { via: "query" })).status).toBe(200);
    const res = await app.request("/rawstore/", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Auth-Token": await token("bob") },
      body: JSON.stringify(request({ "a.csv": fileEntry("a") })),
    });
    expect(res.status).toBe(200);
  });

  it.each([["../escape.csv"], ["a/../../x"], ["/etc/passwd"], ["a//b"], ["a\\b"], ["./a"]])(
    "refuses the path %j with INVALID_ARGUMENT",
    async (path) => {
      const res = await authorize(app, request({ [path]: fileEntry("a") }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("INVALID_ARGUMENT");
    },
  );

  it.each([
    ["a body that is not JSON", "{nope", "application/json"],
    ["a form-encoded body", "metadata=1", "application/x-www-form-urlencoded"],
    ["no metadata.owner", JSON.stringify({ metadata: { name: "d" }, filedata: {} }), "application/json"],
    ["no filedata", JSON.stringify({ metadata: { owner: "bob", name: "d" } }), "application/json"],
    [
      "a file without md5",
      JSON.stringify({ metadata: { owner: "bob", name: "d" }, filedata: { a: { length: 1, name: "a" } } }),
      "application/json",
    ],
    [
      "a negative length",
      JSON.stringify(request({ a: { ...fileEntry("a"), length: -1 } })),
      "application/json",
    ],
  ])("answers 400 for %s", async (_what, body, type) => {
    const res = await app.request("/rawstore/authorize", {
      method: "POST",
      headers: { "Content-Type": type, "Auth-Token": await token("bob") },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("INVALID_ARGUMENT");
  });
});

describe("authentication", () => {
  const body = request({ "a.csv": fileEntry("a") });
  it.each([
    ["a missing token", async () => ""],
    ["an expired token", () => token("bob", { now: new Date(Date.now() - 7200_000), expiresIn: 60 })],
    ["a token signed with another key", () => token("bob", { privateKey: otherKeys.privateKey })],
    ["a token for another service", () => token("bob", { claims: { service: "other" } })],
    [
      "a token without datapackage-upload",
      () => token("bob", { permissions: { "datapackage-upload": false } }),
    ],
    ["a token for another user than metadata.owner", () => token("alice")],
    ["garbage", async () => "not.a.token"],
  ])("refuses %s with UNAUTHENTICATED", async (_what, make) => {
    const jwt = await make();
    const res = await app.request("/rawstore/authorize", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(jwt ? { "Auth-Token": jwt } : {}) },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("UNAUTHENTICATED");
  });

  it("refuses an HS256 token whose secret is the public key PEM (algorithm confusion)", async () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({
      userid: "bob",
      service: "rawstore",
      permissions: { "datapackage-upload": true },
      exp: Math.floor(Date.now() / 1000) + 60,
    })}`;
    const signature = createHmac("sha256", authKeys.publicKey).update(unsigned).digest("base64url");
    const forged = `${unsigned}.${signature}`;
    const res = await authorize(app, body, { token: forged });
    expect(res.status).toBe(401);
  });

  it("logs why a token was refused, never the token (regression: a 401 line said only the status)", async () => {
    const { logger, records } = recordingLogger();
    const logged = buildApp({ driver, logger });
    const expired = await token("bob", { now: new Date(Date.now() - 7200_000), expiresIn: 60 });
    const stranger = await token("bob", { privateKey: otherKeys.privateKey });
    const wrongService = await token("bob", { claims: { service: "other" } });
    for (const jwt of [expired, stranger, wrongService])
      expect((await authorize(logged, body, { token: jwt })).status).toBe(401);
    const refusals = records.filter((r) => r.msg === "request").map((r) => [r.status, r.reason]);
    expect(refusals).toEqual([
      [401, "expired"],
      [401, "bad_signature"],
      [401, "wrong_service"],
    ]);
    for (const jwt of [expired, stranger, wrongService])
      expect(JSON.stringify(records)).not.toContain(jwt.split(".")[2]);
  });

  it("has no testing-token backdoor", async () => {
    const res = await app.request("/rawstore/info?jwt=testing-token");
    expect(res.status).toBe(401);
  });
});

describe("GET /rawstore/info", () => {
  it("lists the caller's prefixes in the original's order", async () => {
    const res = await app.request("/rawstore/info", { headers: { "Auth-Token": await token("bob") } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      prefixes: [
        "http://bitstore.test:80/rawstore/s3/store/bob",
        "http://bitstore.test/rawstore/s3/store/bob",
        "http://store:80/bob",
        "http://store/bob",
        "https://bitstore.test:443/rawstore/s3/store/bob",
        "https://bitstore.test/rawstore/s3/store/bob",
        "https://store:443/bob",
        "https://store/bob",
      ],
    });
  });

  it("keeps the store's own port (regression: a store on :7480 was listed as :80 and :443)", async () => {
    const onPort = buildApp({
      driver: { ...driver, capabilities: { ...driver.capabilities, presignedPost: true } },
      env: { STORAGE_URL: "s3://data?endpoint=http://127.0.0.1:7480&forcePathStyle=true" },
    });
    const res = await onPort.request("/rawstore/info", { headers: { "Auth-Token": await token("bob") } });
    expect(await res.json()).toEqual({
      prefixes: ["http://127.0.0.1:7480/data/bob", "http://data:7480/bob"],
    });
  });

  it("refuses a request without a token", async () => {
    expect((await app.request("/rawstore/info")).status).toBe(401);
  });
});

describe("metadata without name (DataHub's own client sends owner and findability only)", () => {
  const files = { "data/a.csv": fileEntry("a,b\n") };

  it("is accepted when the key pattern does not use {name}", async () => {
    const hashed = buildApp({ driver, env: { STORAGE_PATH_PATTERN: "{owner}/{md5_hex}/{basename}" } });
    const res = await authorize(hashed, {
      metadata: { owner: "bob", findability: "unlisted" },
      filedata: files,
    });
    expect(res.status).toBe(200);
    const { filedata } = (await res.json()) as Authorized;
    expect(filedata["data/a.csv"]?.upload_query.key).toBe(
      `bob/${Buffer.from(md5("a,b\n"), "base64").toString("hex")}/a.csv`,
    );
  });

  it("is a 400 naming the missing field, in body.error.message too, when the pattern uses {name}", async () => {
    const res = await authorize(app, { metadata: { owner: "bob" }, filedata: files });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; error: { code: string; message: string } };
    expect(body.code).toBe("INVALID_ARGUMENT");
    expect(body.error).toEqual({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("metadata.name"),
    });
  });
});

describe("local-disk mode uploads", () => {
  async function formFor(body: string, path = "a.csv", type = "text/csv"): Promise<UploadForm> {
    const res = await authorize(app, request({ [path]: fileEntry(body, type) }));
    return ((await res.json()) as Authorized).filedata[path]!;
  }

  it("stores a browser-style POST and then reports it as existing", async () => {
    const form = await formFor("hello,world\n");
    const res = await upload(app, form, "hello,world\n");
    expect(res.status).toBe(204);
    const stored = await driver.get("bob/cities/a.csv");
    expect((await readAll(stored.body)).toString()).toBe("hello,world\n");
    expect(stored.info.contentType).toBe("text/csv");
    const again = (await (
      await authorize(app, request({ "a.csv": fileEntry("hello,world\n") }))
    ).json()) as Authorized;
    expect(again.filedata["a.csv"]!.exists).toBe(true);
  });

  it("stores a file part sent without a filename, as S3 does (regression: refused as no file upload)", async () => {
    const form = await formFor("hello,world", "a.csv", "text/plain");
    const data = new FormData();
    for (const [name, value] of Object.entries(form.upload_query)) data.append(name, value);
    data.append("file", "hello,world");
    const res = await app.request(new URL(form.upload_url).pathname, { method: "POST", body: data });
    expect(res.status).toBe(204);
    expect((await readAll((await driver.get("bob/cities/a.csv")).body)).toString()).toBe("hello,world");
  });

  it("stores an empty file", async () => {
    const form = await formFor("");
    expect((await upload(app, form, "")).status).toBe(204);
    expect((await driver.head("bob/cities/a.csv")).size).toBe(0);
  });

  it.each([
    ["a longer body", (f: UploadForm) => ({ form: f, body: "hello!!" }), 400, "EntityTooLarge"],
    ["a shorter body", (f: UploadForm) => ({ form: f, body: "hell" }), 400, "EntityTooSmall"],
    [
      "a body that does not match Content-MD5",
      (f: UploadForm) => ({ form: f, body: "HELLO" }),
      400,
      "BadDigest",
    ],
    [
      "another key",
      (f: UploadForm) => ({
        form: { ...f, upload_query: { ...f.upload_query, key: "bob/cities/b.csv" } },
        body: "hello",
      }),
      403,
      "AccessDenied",
    ],
    [
      "another content type",
      (f: UploadForm) => ({
        form: { ...f, upload_query: { ...f.upload_query, "Content-Type": "text/html" } },
        body: "hello",
      }),
      403,
      "AccessDenied",
    ],
    [
      "a tampered signature",
      (f: UploadForm) => ({
        form: {
          ...f,
          upload_query: { ...f.upload_query, "x-amz-signature": "0".repeat(64) },
        },
        body: "hello",
      }),
      403,
      "AccessDenied",
    ],
  ])("refuses %s and stores nothing", async (_what, violate, status, s3Code) => {
    const { form, body } = violate(await formFor("hello"));
    const { logger, records } = recordingLogger();
    const res = await upload(buildApp({ driver, logger }), form, body);
    expect(res.status).toBe(status);
    expect(await res.text()).toContain(`<Code>${s3Code}</Code>`);
    if (status === 403)
      expect(records).toContainEqual(
        expect.objectContaining({
          msg: "request",
          status,
          reason: expect.any(String),
          why: expect.any(String),
        }),
      );
    await expect(driver.head("bob/cities/a.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(driver.head("bob/cities/b.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses an expired policy", async () => {
    const past = new Date(Date.now() - 2 * 3600_000);
    const old = buildApp({ driver, now: () => past });
    const res = await authorize(old, request({ "a.csv": fileEntry("hello") }));
    const form = ((await res.json()) as Authorized).filedata["a.csv"]!;
    const posted = await upload(app, form, "hello");
    expect(posted.status).toBe(403);
    expect(await posted.text()).toContain("<Code>AccessDenied</Code>");
    await expect(driver.head("bob/cities/a.csv")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

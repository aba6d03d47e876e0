import { WharfError } from "@wharf/errors";
import { createMemoryDriver, type StorageDriver } from "@wharf/storage-driver";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { baseEnv, md5 } from "../test/helpers.ts";
import type { AuthorizeRequest } from "./authorize-request.ts";
import { commonDirectory, type FileAuthorization, fileKeys } from "./authorizer.ts";
import { loadConfig } from "./config.ts";
import { createFormBuilder } from "./forms.ts";
import { createServices } from "./services.ts";

const now = new Date("2024-05-06T12:00:00.250Z");
const bob = { userid: "bob", claims: {} };

function services(driver: StorageDriver, env: Record<string, string> = {}) {
  const config = loadConfig(
    baseEnv({
      STORAGE_URL: "s3://bkt/pre/?endpoint=http://127.0.0.1:7480&region=us-east-1&forcePathStyle=true",
      MULTIPART_THRESHOLD: "5000",
      ...env,
    }),
  );
  return { config, ...createServices({ config, driver, now: () => now }) };
}

/** The body as it was built before: one object per path, then JSON.stringify. */
function expectedBody(
  built: ReturnType<typeof services>,
  request: AuthorizeRequest,
  answered: { filedata: Record<string, FileAuthorization> },
  stored: ReadonlySet<string>,
): string {
  const form = createFormBuilder(built.forms, { expiresIn: built.config.uploadExpiresIn, now });
  const keyOf = fileKeys(built.keyPattern, request);
  const filedata: Record<string, FileAuthorization> = Object.create(null);
  for (const file of request.files) {
    const key = keyOf(file);
    const head = { "md5-hash": file.md5, name: file.name, type: file.type, exists: stored.has(key) };
    const multipart = answered.filedata[file.path]?.multipart;
    if (file.length > built.config.multipartThreshold && multipart) {
      filedata[file.path] = { ...head, upload_url: built.forms.url, multipart };
      continue;
    }
    const redirect = answered.filedata[file.path]?.upload_query?.success_action_redirect;
    const acl = request.private ? "private" : "public-read";
    filedata[file.path] = {
      ...head,
      ...form({ key, length: file.length, md5: file.md5, type: file.type, acl }, redirect),
    };
  }
  return JSON.stringify({ filedata });
}

describe("the /authorize body", () => {
  const char = fc.constantFrom("a", "Z", "0", '"', "é", "日", "😀", "\u2028", " ", "-", ".", "_");
  const segment = fc
    .string({ unit: char, minLength: 1, maxLength: 8 })
    .filter((s) => s !== "." && s !== "..");
  // Integer-like paths come first in an object's key order; "__proto__" is a file like any other.
  const path = fc.oneof(
    fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/")),
    fc.constantFrom("0", "7", "42", "__proto__"),
  );
  const file = fc.record({
    length: fc.oneof(fc.constant(1), fc.nat(4999), fc.integer({ min: 5001, max: 2 ** 40 })),
    md5: fc.constantFrom(md5("a"), md5("b"), md5("")),
    type: fc.constantFrom("text/csv", 'text/plain; charset="utf-8"'),
    name: fc.string({ unit: char, minLength: 1, maxLength: 8 }),
  });
  const request = fc.record({
    dataset: fc
      .string({ unit: char, minLength: 1, maxLength: 6 })
      .filter((s) => !s.includes("/") && s !== "." && s !== ".."),
    private: fc.boolean(),
    files: fc.uniqueArray(fc.tuple(path, file), { selector: ([p]) => p, maxLength: 12 }),
  });

  it.each([["off"], ["redirect"]])(
    "is what JSON.stringify wrote of the answers (VERIFY_UPLOADS=%s)",
    async (verify) => {
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const driver = createMemoryDriver();
          const built = services(driver, { VERIFY_UPLOADS: verify });
          const parsed: AuthorizeRequest = {
            owner: "bob",
            dataset: r.dataset,
            private: r.private,
            files: r.files.map(([p, f]) => ({ path: p, ...f, typeGiven: true })),
          };
          // One file of each request already stored, with its declared MD5 and length.
          const keyOf = fileKeys(built.keyPattern, parsed);
          const stored = new Set<string>();
          const first = parsed.files.find((f) => f.length === 1 && f.md5 === md5("a"));
          if (first) {
            await driver.put(keyOf(first), Buffer.from("a"));
            stored.add(keyOf(first));
          }
          let body: string;
          try {
            body = await built.authorizer.authorize(bob, parsed);
          } catch (error) {
            // A key the pattern refuses fails the whole request, before any form.
            fc.pre(!(error instanceof WharfError && error.code === "INVALID_ARGUMENT"));
            throw error;
          }
          expect(body).toBe(expectedBody(built, parsed, JSON.parse(body), stored));
        }),
        { numRuns: 60 },
      );
    },
  );
});

describe("a file named __proto__", () => {
  it("gets its form like any other (it was signed and counted against the quota, but left out of the answer)", async () => {
    const built = services(createMemoryDriver());
    const body = await built.authorizer.authorize(bob, {
      owner: "bob",
      dataset: "ds",
      private: false,
      files: ["__proto__", "a.csv"].map((path) => ({
        path,
        length: 1,
        md5: md5("a"),
        type: "text/csv",
        name: path,
        typeGiven: true,
      })),
    });
    const answered = JSON.parse(body) as { filedata: Record<string, FileAuthorization> };
    expect(Object.keys(answered.filedata)).toEqual(["__proto__", "a.csv"]);
    expect(Object.getOwnPropertyDescriptor(answered.filedata, "__proto__")?.value).toMatchObject({
      name: "__proto__",
      upload_query: { key: expect.stringMatching(/__proto__$/) },
    });
  });
});

describe("commonDirectory", () => {
  it("is the longest directory (up to a /) that every key starts with", () => {
    const key = fc.string({ unit: fc.constantFrom("a", "b", "/", "é"), maxLength: 8 });
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 5 }), (keys) => {
        const directory = commonDirectory(keys);
        expect(directory === "" || directory.endsWith("/")).toBe(true);
        for (const k of keys) expect(k.startsWith(directory)).toBe(true);
        // No longer directory is shared by all of them.
        const first = keys[0] as string;
        const longer = first.indexOf("/", directory.length);
        if (longer !== -1) expect(keys.every((k) => k.startsWith(first.slice(0, longer + 1)))).toBe(false);
      }),
    );
  });
});

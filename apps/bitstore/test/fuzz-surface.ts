import { isWharfError } from "@wharf/errors";
import { openStorage, type StorageDriver } from "@wharf/storage-driver";
import {
  expectClearHttpAnswer,
  type FuzzSurface,
  hostileText,
  mutatedJson,
  rawBytes,
  tempDir,
} from "@wharf/test-kit";
import fc from "fast-check";
import { formFor, type RunningBitstore, startBitstore } from "./harness.ts";
import { fileEntry, md5, token, type UploadForm } from "./helpers.ts";

/** A hostile `/authorize` call: its JSON body, token and content type. */
export interface AuthorizeInput {
  readonly kind: "authorize";
  readonly body: string;
  readonly auth: "token" | "none" | "garbage" | "query";
  readonly contentType: string;
}

/** A hostile form POST to local-disk mode's bucket endpoint, built from a valid form. */
export interface FormInput {
  readonly kind: "form";
  /** Changes to the form's fields: drop one, replace a value, add one. */
  readonly fields: readonly (
    | { op: "drop"; index: number }
    | { op: "set"; index: number; value: string }
    | { op: "add"; name: string; value: string }
  )[];
  /** `exact` is the declared body; the others break its length or MD5. */
  readonly body: "exact" | "short" | "over" | "flipped" | "empty";
  readonly filename: string;
  readonly fileFirst: boolean;
  /** Cut the encoded request at this fraction of its length (1 = whole). */
  readonly cut: number;
  readonly contentType: "multipart" | "no-boundary" | "other-boundary" | "json" | "none";
  readonly junk: string | undefined;
  /** Upload to a bitstore whose store has taken no write yet (a fresh driver), or to the warm one. */
  readonly fresh: boolean;
}

export type BitstoreInput = AuthorizeInput | FormInput;

const payload = "id,value\n1,hello\n";
const owner = "bob";
const formPath = "fuzz/target.csv";
const keyOf = (path: string) => `${owner}/ds/${path}`;

const validAuthorize = {
  metadata: { owner, name: "ds", findability: "published" },
  filedata: {
    "data/a.csv": fileEntry(payload),
    "b.bin": fileEntry("b", "application/octet-stream", "b.bin"),
  },
};

const authorizeInputs: fc.Arbitrary<AuthorizeInput> = fc.record({
  kind: fc.constant("authorize" as const),
  body: mutatedJson(validAuthorize),
  auth: fc.oneof(
    { weight: 6, arbitrary: fc.constant("token" as const) },
    fc.constantFrom("none" as const, "garbage" as const, "query" as const),
  ),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant("application/json") },
    fc.constantFrom("text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", ""),
  ),
});

const formInputs: fc.Arbitrary<FormInput> = fc.record({
  kind: fc.constant("form" as const),
  fields: fc.array(
    fc.oneof(
      fc.record({ op: fc.constant("drop" as const), index: fc.nat(12) }),
      fc.record({ op: fc.constant("set" as const), index: fc.nat(12), value: hostileText }),
      fc.record({ op: fc.constant("add" as const), name: hostileText, value: hostileText }),
    ),
    { maxLength: 2 },
  ),
  body: fc.constantFrom("exact", "exact", "short", "over", "flipped", "empty"),
  filename: fc.oneof({ weight: 5, arbitrary: fc.constant("upload.csv") }, hostileText),
  fileFirst: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
  cut: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, fc.double({ min: 0, max: 1, noNaN: true })),
  contentType: fc.oneof(
    { weight: 12, arbitrary: fc.constant("multipart" as const) },
    fc.constantFrom("no-boundary" as const, "other-boundary" as const, "json" as const, "none" as const),
  ),
  junk: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, rawBytes),
  fresh: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
});

/** A form sent as a browser would. */
const asSent: FormInput = {
  kind: "form",
  fields: [],
  body: "exact",
  filename: "upload.csv",
  fileFirst: false,
  cut: 1,
  contentType: "multipart",
  junk: undefined,
  fresh: false,
};

/** What reaches the POST endpoint: fields, then the file (or the file first). */
function encodeForm(
  fields: [string, string][],
  file: { name: string; type: string; data: string },
  input: FormInput,
) {
  const boundary = "----wharf-fuzz-boundary";
  const quote = (text: string) => text.replace(/[\r\n"]/g, (ch) => encodeURIComponent(ch));
  const fieldParts = fields.map(
    ([name, value]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`,
  );
  const filePart = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(file.name)}"\r\nContent-Type: ${quote(file.type)}\r\n\r\n${file.data}\r\n`;
  const parts = input.fileFirst ? [filePart, ...fieldParts] : [...fieldParts, filePart];
  let text = `${parts.join("")}--${boundary}--\r\n`;
  if (input.junk !== undefined) text = `${input.junk}${text}`;
  const bytes = Buffer.from(text, "latin1");
  const body = bytes.subarray(0, Math.round(bytes.length * input.cut));
  const type = {
    multipart: `multipart/form-data; boundary=${boundary}`,
    "no-boundary": "multipart/form-data",
    "other-boundary": "multipart/form-data; boundary=other",
    json: "application/json",
    none: undefined,
  }[input.contentType];
  return { body, type };
}

function bodyFor(kind: FormInput["body"]): string {
  switch (kind) {
    case "exact":
      return payload;
    case "short":
      return payload.slice(0, -1);
    case "over":
      return `${payload}x`;
    case "flipped":
      return payload.toUpperCase();
    case "empty":
      return "";
  }
}

/** Local-disk mode's S3 stand-in answers errors as S3 XML. */
async function expectS3Answer(res: Response): Promise<number> {
  const text = await res.text();
  if (res.status >= 500) throw new Error(`form POST answered ${res.status}: ${text.slice(0, 300)}`);
  if (res.status < 400) return res.status;
  if (!/^<\?xml[^>]*>\s*<Error><Code>\w+<\/Code><Message>[^<]*<\/Message><\/Error>$/.test(text))
    throw new Error(`form POST answered ${res.status} without an S3 error document: ${text.slice(0, 300)}`);
  return res.status;
}

/**
 * bitstore in local-disk mode on the fs driver in a temp folder, served over loopback: `/authorize`
 * bodies, and form POSTs that start from a valid form for one key. Whatever the answer, the key
 * holds nothing or exactly the declared body, never a part of it. `only` narrows the form inputs
 * (see fuzz.test.ts: bad bodies into a fresh folder crash bitstore until the BodyCheck fix lands).
 */
export async function bitstoreSurface(
  options: { only?: (input: FormInput) => boolean } = {},
): Promise<FuzzSurface<BitstoreInput> & AsyncDisposable> {
  const dir = await tempDir("bitstore-fuzz-");
  const driver = await openStorage(`file://${dir.path}`);
  const bitstore = await startBitstore({ env: { STORAGE_URL: `file://${dir.path}` }, driver });
  const jwt = await token(owner);
  const form = await formFor(bitstore, formPath, payload);
  const inputs: fc.Arbitrary<BitstoreInput> = fc.oneof(
    authorizeInputs,
    options.only ? formInputs.filter(options.only) : formInputs,
  );

  const keyHoldsNothingOrPayload = async (formKey: string, driver: StorageDriver) => {
    try {
      const info = await driver.head(formKey);
      if (info.etag !== Buffer.from(md5(payload), "base64").toString("hex") || info.size !== payload.length)
        throw new Error(`the key holds ${info.size} bytes that are not the declared body`);
      await driver.delete(formKey);
    } catch (error) {
      if (!isWharfError(error, "NOT_FOUND")) throw error;
    }
  };

  const authorize = async (input: AuthorizeInput) => {
    const headers: Record<string, string> = {};
    if (input.contentType) headers["Content-Type"] = input.contentType;
    if (input.auth === "token") headers["Auth-Token"] = jwt;
    if (input.auth === "garbage") headers["Auth-Token"] = "a.b.c";
    const query = input.auth === "query" ? `?jwt=${jwt}` : "";
    const res = await fetch(`${bitstore.url}/rawstore/authorize${query}`, {
      method: "POST",
      headers,
      body: input.body,
    });
    await expectClearHttpAnswer(res, (b) => typeof b.message === "string" && typeof b.code === "string");
  };

  const post = async (input: FormInput) => {
    if (!input.fresh) return postTo({ bitstore, driver, form }, input);
    const fresh = await openStorage(`file://${dir.path}`);
    try {
      await using site = await startBitstore({ env: { STORAGE_URL: `file://${dir.path}` }, driver: fresh });
      await postTo({ bitstore: site, driver: fresh, form: await formFor(site, formPath, payload) }, input);
    } finally {
      await fresh.close();
    }
  };

  const postTo = async (
    { driver, form: target }: { bitstore: RunningBitstore; driver: StorageDriver; form: UploadForm },
    input: FormInput,
  ) => {
    const fields = Object.entries(target.upload_query);
    for (const change of input.fields) {
      if (change.op === "add") fields.push([change.name, change.value]);
      else if (fields.length > 0) {
        const at = change.index % fields.length;
        if (change.op === "drop") fields.splice(at, 1);
        else fields[at] = [fields[at]![0], change.value];
      }
    }
    const { body, type } = encodeForm(
      fields,
      { name: input.filename, type: form.upload_query["Content-Type"]!, data: bodyFor(input.body) },
      input,
    );
    const res = await fetch(target.upload_url, {
      method: "POST",
      body,
      redirect: "manual",
      ...(type ? { headers: { "Content-Type": type } } : {}),
    });
    const status = await expectS3Answer(res);
    if (status < 300 && input.body !== "exact")
      throw new Error(`a "${input.body}" body was stored (${status}) against its form's length and MD5`);
    await keyHoldsNothingOrPayload(keyOf(formPath), driver);
  };

  const good = async () => {
    const res = await fetch(form.upload_url, {
      method: "POST",
      body: encodeForm(
        Object.entries(form.upload_query),
        { name: "upload.csv", type: form.upload_query["Content-Type"]!, data: payload },
        asSent,
      ).body,
      headers: { "Content-Type": "multipart/form-data; boundary=----wharf-fuzz-boundary" },
    });
    await res.arrayBuffer();
    const info = await driver.head(keyOf(formPath)).catch(() => undefined);
    if (res.status !== 204 || info?.size !== payload.length)
      throw new Error(`a good form POST answered ${res.status}, stored ${info?.size ?? "nothing"}`);
    await driver.delete(keyOf(formPath));
  };

  return {
    name: "fuzz-bitstore",
    inputs,
    check: (input) => (input.kind === "authorize" ? authorize(input) : post(input)),
    good,
    async [Symbol.asyncDispose]() {
      await bitstore[Symbol.asyncDispose]();
      await driver.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

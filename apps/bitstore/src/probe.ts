import { randomUUID } from "node:crypto";
import { WharfError } from "@wharf/errors";
import type { StorageDriver } from "@wharf/storage-driver";
import { buildUploadForm, type FormTarget } from "./forms.ts";
import { md5Base64 } from "./key-pattern.ts";

/** Which POST conditions the store refuses when violated (true = enforced). */
export interface ProbeReport {
  readonly checkedAt: string;
  readonly signature: boolean;
  readonly contentLengthRange: boolean;
  readonly contentType: boolean;
  /** Ceph 16 stores a body that does not match `Content-MD5`: false there. */
  readonly contentMd5: boolean;
}

/**
 * Posts a valid form (the control: it must be stored, else the probe fails with `UNAVAILABLE`) and
 * four small violating forms to the store, exactly as a browser would, and reports which it refused. Anything a violating POST stored is deleted again. Bitstore logs the report, serves it at
 * `/{service}/probe`, and verifies uploads after the fact where the store does not enforce MD5.
 */
export async function probeStore(options: {
  target: FormTarget;
  driver: StorageDriver;
  statePrefix: string;
  fetch?: typeof fetch;
  now?: () => Date;
}): Promise<ProbeReport> {
  const doFetch = options.fetch ?? fetch;
  const body = "bitstore probe";
  const md5 = md5Base64(body);

  async function attempt(
    name: string,
    mutate: (fields: Record<string, string>) => string,
    declared: { length: number; md5: string } = { length: Buffer.byteLength(body), md5 },
  ): Promise<boolean> {
    const key = `${options.statePrefix}probe/${randomUUID()}-${name}`;
    const form = buildUploadForm(
      options.target,
      { key, ...declared, type: "text/plain", acl: "private" },
      { expiresIn: 300, ...(options.now ? { now: options.now() } : {}) },
    );
    const fields = { ...form.upload_query };
    const sent = mutate(fields);
    const data = new FormData();
    for (const [field, value] of Object.entries(fields)) data.append(field, value);
    data.append("file", new Blob([sent], { type: fields["Content-Type"] }), "probe.txt");
    const response = await doFetch(form.upload_url, { method: "POST", body: data, redirect: "manual" });
    await response.body?.cancel();
    if (response.ok) await options.driver.delete(key).catch(() => undefined);
    return !response.ok;
  }

  const control = !(await attempt("control", () => body));
  if (!control) {
    throw new WharfError(
      "UNAVAILABLE",
      "the store refused a valid upload form; check the bucket and credentials",
    );
  }
  const [signature, contentLengthRange, contentType, contentMd5] = await Promise.all([
    attempt("signature", (f) => {
      f["x-amz-signature"] = (f["x-amz-signature"] as string).replace(/^./, (c) => (c === "0" ? "1" : "0"));
      return body;
    }),
    attempt("length", () => `${body}!`, { length: Buffer.byteLength(body), md5: md5Base64(`${body}!`) }),
    attempt("type", (f) => {
      f["Content-Type"] = "text/html";
      return body;
    }),
    attempt("md5", () => body.replace("probe", "PROBE")),
  ]);
  return {
    checkedAt: (options.now?.() ?? new Date()).toISOString(),
    signature,
    contentLengthRange,
    contentType,
    contentMd5,
  };
}

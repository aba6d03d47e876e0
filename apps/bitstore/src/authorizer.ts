import { isWharfError, WharfError } from "@wharf/errors";
import { type ListedObject, listAllObjects, type StorageDriver } from "@wharf/storage-driver";
import type { AuthorizeRequest, DeclaredFile } from "./authorize-request.ts";
import { cachedFormBuilders, type FormTarget, lastQuoted, type UploadQuery } from "./forms.ts";
import type { KeyPattern } from "./key-pattern.ts";
import { md5Hex } from "./key-pattern.ts";
import type { Multipart } from "./multipart.ts";
import { assertOwner, type Principal, quotaFromClaims } from "./principal.ts";
import type { Quota } from "./quota.ts";

export interface FileAuthorization {
  "md5-hash": string;
  name: string;
  type: string;
  /** True when an object with this MD5 and length is already stored under the key. */
  exists: boolean;
  upload_url: string;
  upload_query?: UploadQuery;
  multipart?: {
    key: string;
    upload_id: string;
    part_size: number;
    part_count: number;
  };
}

export interface AuthorizerOptions {
  readonly driver: StorageDriver;
  readonly keyPattern: KeyPattern;
  readonly statePrefix: string;
  readonly forms: FormTarget;
  readonly expiresIn: number;
  readonly multipartThreshold: number;
  readonly multipart: Multipart;
  readonly quota: Quota;
  /** A signed `success_action_redirect` for a key, when uploads are verified by redirect. */
  readonly redirectFor?: (file: { key: string; md5: string; length: number }) => string;
  readonly now?: () => Date;
}

/** The keys the declared files of a request are stored under. */
export function fileKeys(pattern: KeyPattern, request: AuthorizeRequest): (file: DeclaredFile) => string {
  const render = pattern.renderer({
    owner: request.owner,
    ...(request.dataset === undefined ? {} : { dataset: request.dataset }),
  });
  return (file) => render({ path: file.path, filename: file.name, md5: file.md5 });
}

/** Above this many files, `exists` is answered from one listing instead of one HEAD per file. */
const listThreshold = 8;

/**
 * `/authorize`: checks the owner, renders each key, reserves quota, and answers one POST form
 * (or, above the multipart threshold, one multipart upload) per file, keyed by the request's path.
 */
export function createAuthorizer(options: AuthorizerOptions) {
  const { driver } = options;
  const now = options.now ?? (() => new Date());
  const formBuilder = cachedFormBuilders(options.forms, options.expiresIn);

  function keysOf(request: AuthorizeRequest): string[] {
    const keyOf = fileKeys(options.keyPattern, request);
    return request.files.map((file) => {
      const key = keyOf(file);
      if (key.startsWith(options.statePrefix)) {
        throw new WharfError("INVALID_ARGUMENT", `the file path ${JSON.stringify(file.path)} is not allowed`);
      }
      return key;
    });
  }

  async function stored(keys: readonly string[]): Promise<Map<string, ListedObject>> {
    const found = new Map<string, ListedObject>();
    if (keys.length === 0) return found;
    if (keys.length >= listThreshold) {
      const prefix = commonDirectory(keys);
      const wanted = new Set(keys);
      let seen = 0;
      for await (const object of listAllObjects(driver, { prefix })) {
        if (wanted.has(object.key)) found.set(object.key, object);
        if (++seen > 20 * keys.length + 1000) return headEach(keys);
      }
      return found;
    }
    return headEach(keys);
  }

  async function headEach(keys: readonly string[]): Promise<Map<string, ListedObject>> {
    const found = new Map<string, ListedObject>();
    await Promise.all(
      keys.map(async (key) => {
        try {
          found.set(key, await driver.head(key));
        } catch (error) {
          if (!isWharfError(error, "NOT_FOUND")) throw error;
        }
      }),
    );
    return found;
  }

  async function matches(object: ListedObject | undefined, file: DeclaredFile): Promise<boolean> {
    if (!object || object.size !== file.length) return false;
    if (driver.capabilities.md5Etags && !object.etag.includes("-")) return object.etag === md5Hex(file.md5);
    // A multipart upload's etag, or an opaque one (Azure Blob): the MD5 bitstore checked and recorded.
    const info = await driver.head(object.key);
    return info.metadata["content-md5"] === file.md5;
  }

  return {
    /**
     * The response body, `{"filedata":{…}}`, written out as text: byte for byte what
     * `JSON.stringify` writes of a {@link FileAuthorization} per path, without building them.
     */
    async authorize(principal: Principal, request: AuthorizeRequest): Promise<string> {
      assertOwner(principal, request.owner);
      const keys = keysOf(request);
      const limits = {
        public: quotaFromClaims(principal, false),
        private: quotaFromClaims(principal, true),
      };
      if (limits.public !== undefined || limits.private !== undefined) {
        const items = request.files.map((file, i) => ({
          key: keys[i] as string,
          bytes: file.length,
          private: request.private,
        }));
        await options.quota.reserve(request.owner, items, limits, options.expiresIn);
      }
      const existing = await stored(keys);
      const acl = request.private ? ("private" as const) : ("public-read" as const);
      const form = formBuilder(now());
      const q = JSON.stringify;
      const type = lastQuoted();
      // Keyed by path in an object, so that the paths keep an object's order (integer-like ones
      // first) as before; without a prototype, so that a file named "__proto__" is answered too.
      const entries: Record<string, string> = Object.create(null);
      for (const [i, file] of request.files.entries()) {
        const key = keys[i] as string;
        // Awaited only when an object is stored under the key: no async hop for a new file.
        const object = existing.get(key);
        const exists = object !== undefined && (await matches(object, file));
        let entry: string;
        if (file.length > options.multipartThreshold) {
          const session = await options.multipart.start(request.owner, { key, ...file });
          const authorization: FileAuthorization = {
            "md5-hash": file.md5,
            name: file.name,
            type: file.type,
            exists,
            upload_url: options.forms.url,
            multipart: {
              key,
              upload_id: session.uploadId,
              part_size: session.partSize,
              part_count: session.partCount,
            },
          };
          entry = q(authorization);
        } else {
          const redirect = options.redirectFor?.({ key, md5: file.md5, length: file.length });
          const md5 = q(file.md5);
          const members = form.members(
            { key, length: file.length, md5: file.md5, type: file.type, acl },
            redirect,
            md5,
          );
          entry = `{"md5-hash":${md5},"name":${q(file.name)},"type":${type(file.type)},"exists":${exists},${members}}`;
        }
        entries[file.path] = entry;
      }
      let body = "";
      for (const path of Object.keys(entries)) body += `${body === "" ? "" : ","}${q(path)}:${entries[path]}`;
      return `{"filedata":{${body}}}`;
    },
  };
}

export type Authorizer = ReturnType<typeof createAuthorizer>;

/** The longest common prefix of the keys, cut back to a `/`. */
export function commonDirectory(keys: readonly string[]): string {
  const first = keys[0] as string;
  let length = first.length;
  for (const key of keys) {
    let i = 0;
    while (i < length && key.charCodeAt(i) === first.charCodeAt(i)) i++;
    length = i;
  }
  return length === 0 ? "" : first.slice(0, first.lastIndexOf("/", length - 1) + 1);
}

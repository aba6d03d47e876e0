import { heedErrors } from "./body.ts";
import { validateKey, validatePrefix } from "./keys.ts";
import type { StorageDriver } from "./types.ts";

const wrapped = new WeakSet<StorageDriver>();

/**
 * Wraps a driver so every key and prefix is validated before the driver sees it, and a stream body
 * that fails before the driver reads it (a key rejected here) never becomes an unheard error. Idempotent:
 * wrapping an already wrapped driver returns it unchanged.
 *
 * @example
 * const storage = withKeyValidation(createFsDriver({ root: "/srv/data" }));
 * await storage.get("../etc/passwd"); // rejects with INVALID_ARGUMENT
 */
export function withKeyValidation(driver: StorageDriver): StorageDriver {
  if (wrapped.has(driver)) return driver;
  const folderMarker = driver.capabilities.folderMarkers;
  const valid = (key: string): string => {
    validateKey(key, { folderMarker });
    return key;
  };
  const safe: StorageDriver = {
    name: driver.name,
    capabilities: driver.capabilities,
    head: async (key) => driver.head(valid(key)),
    get: async (key, options) => driver.get(valid(key), options),
    // The body's errors are heard before the key is checked: a refused key must not leave them unheard.
    put: async (key, body, options) => {
      heedErrors(body);
      return driver.put(valid(key), body, options);
    },
    delete: async (key) => driver.delete(valid(key)),
    list: async (options = {}) => {
      if (options.prefix !== undefined) validatePrefix(options.prefix);
      return driver.list(options);
    },
    copy: async (sourceKey, destinationKey, options) =>
      driver.copy(valid(sourceKey), valid(destinationKey), options),
    rename: async (sourceKey, destinationKey, options) =>
      driver.rename(valid(sourceKey), valid(destinationKey), options),
    renamePrefix: async (sourcePrefix, destinationPrefix) => {
      validatePrefix(sourcePrefix);
      validatePrefix(destinationPrefix);
      return driver.renamePrefix(sourcePrefix, destinationPrefix);
    },
    presign: async (key, options) => driver.presign(valid(key), options),
    createMultipart: async (key, options) => driver.createMultipart(valid(key), options),
    uploadPart: async (key, uploadId, partNumber, body, options) => {
      heedErrors(body);
      return driver.uploadPart(valid(key), uploadId, partNumber, body, options);
    },
    listParts: async (key, uploadId) => driver.listParts(valid(key), uploadId),
    completeMultipart: async (key, uploadId, parts) => driver.completeMultipart(valid(key), uploadId, parts),
    abortMultipart: async (key, uploadId) => driver.abortMultipart(valid(key), uploadId),
    listMultipartUploads: (prefix) => {
      if (prefix) validatePrefix(prefix);
      return driver.listMultipartUploads(prefix);
    },
    close: () => driver.close(),
  };
  wrapped.add(safe);
  return safe;
}

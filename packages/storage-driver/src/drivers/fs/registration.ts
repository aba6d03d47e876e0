import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DriverRegistration } from "../registration.ts";
import { booleanOption, invalidStorageUrl } from "../url-options.ts";
import type { FsEtagMode } from "./fs.ts";

/** `file:///absolute/path?fsync=…&etag=…`, or a bare path. */
export interface FsConfig {
  readonly kind: "fs";
  readonly root: string;
  readonly fsync: boolean;
  readonly etag?: FsEtagMode;
}

export const fsRegistration: DriverRegistration<FsConfig> = {
  kind: "fs",
  schemes: ["file"],
  options: ["fsync", "etag"],
  credentials: [],
  location: "folder",
  capabilities: {
    rangeRead: true,
    conditionalWrite: true,
    presign: "depends",
    presignedPost: false,
    multipart: true,
    rename: true,
    folderMarkers: false,
    md5Etags: "depends",
  },
  parse(parsed, { url }) {
    if (parsed.host !== "" && parsed.host !== "localhost")
      throw invalidStorageUrl(url, "file URLs name a local path");
    const root = fileURLToPath(new URL(`file://${parsed.pathname}`));
    if (!isAbsolute(root)) throw invalidStorageUrl(url, "the path must be absolute");
    const etag = parsed.searchParams.get("etag");
    if (etag !== null && etag !== "md5" && etag !== "version")
      throw invalidStorageUrl(url, "etag must be md5 or version");
    return {
      kind: "fs",
      root,
      fsync: booleanOption(url, parsed.searchParams, "fsync", true),
      ...(etag === null ? {} : { etag }),
    };
  },
  parsePath: (path, { cwd }) => ({ kind: "fs", root: resolve(cwd, path), fsync: true }),
  folder: (config) => config.root,
  describe: (config) => `folder ${config.root}`,
  async open(config, options) {
    const { createFsDriver } = await import("./fs.ts");
    return createFsDriver({
      root: config.root,
      fsync: config.fsync,
      etag: config.etag ?? options.fsEtag ?? "md5",
      ...(options.presign === undefined ? {} : { presign: options.presign }),
    });
  },
};

import { WharfError } from "@wharf/errors";

/** Errno of a Node fs error, if any. */
export function errno(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Translates a filesystem error at the driver boundary. */
export function translateFsError(error: unknown, key?: string): WharfError {
  if (error instanceof WharfError) return error;
  const details = key === undefined ? {} : { key };
  switch (errno(error)) {
    case "ENOENT":
    case "ENOTDIR":
      return new WharfError("NOT_FOUND", `no object at ${key}`, { cause: error, details });
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new WharfError("PERMISSION_DENIED", "the storage directory refused access", {
        cause: error,
        details,
      });
    case "ENAMETOOLONG":
      return new WharfError("INVALID_ARGUMENT", "a key segment is too long for this filesystem", {
        cause: error,
        details,
      });
    case "ENOSPC":
    case "EDQUOT":
      return new WharfError("QUOTA_EXCEEDED", "the storage disk is full", { cause: error, details });
    case "ABORT_ERR":
      return new WharfError("CANCELLED", "operation cancelled", { cause: error, details });
    default:
      return new WharfError("INTERNAL", "filesystem operation failed", { cause: error, details });
  }
}

/** Errors of the disk, not of the body being written: a failed write reports them as they are. */
export const diskErrors = new Set(["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EIO", "ENAMETOOLONG"]);

/** A key whose path is taken by a folder of other keys, or runs through another key's file. */
export function conflict(key: string, cause?: unknown): WharfError {
  return new WharfError(
    "INVALID_ARGUMENT",
    `${key} conflicts with an existing object or folder (the fs driver cannot hold both "a" and "a/b")`,
    { cause, details: { key } },
  );
}

export function notFound(key: string): WharfError {
  return new WharfError("NOT_FOUND", `no object at ${key}`, { details: { key } });
}

export function preconditionFailed(key: string, why: string): WharfError {
  return new WharfError("PRECONDITION_FAILED", `${why} at ${key}`, { details: { key } });
}

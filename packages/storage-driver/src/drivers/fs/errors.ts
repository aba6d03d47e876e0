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

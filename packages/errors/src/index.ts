export { type ErrorCode, errorCodes, isWharfError, WharfError } from "./wharf-error.ts";

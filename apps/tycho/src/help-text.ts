import { exitCodeByCode } from "./exit-codes.ts";

/** What `tycho --help` says after the commands: where the registry is, the variables, exit codes. */
export function helpFooter(): string {
  const byStatus = new Map<number, string[]>();
  for (const [code, status] of Object.entries(exitCodeByCode))
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  const codes = [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, names]) => `  ${String(status).padEnd(4)} ${names.join(", ")}`);
  return [
    "",
    "Global options (--config, --json) go before or after the command.",
    "",
    "Where the registry is (first that applies):",
    "  TYCHO_STORAGE_URL     a folder, file:///abs/path or s3://bucket/prefix/?endpoint=…&region=…",
    "  --config FILE         a tychoreg config file (else $TYCHO_CONFIG, else ./.tychoreg.json)",
    "  default               the folder $XDG_DATA_HOME/tycho (~/.local/share/tycho)",
    "",
    "Environment: TYCHO_CONFIG, TYCHO_STORAGE_URL, TYCHO_USER, TYCHO_DEBUG, NO_COLOR,",
    "  AWS_* (credentials, region, profile), AWS_CA_BUNDLE (extra CA certificates for https endpoints).",
    "",
    "Exit codes:",
    "  0    success",
    ...codes,
    "",
  ].join("\n");
}

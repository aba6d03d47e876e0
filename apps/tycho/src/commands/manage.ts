import { WharfError } from "@wharf/errors";
import type { Command } from "commander";
import { verifyVersions } from "../registry/inspect.ts";
import { deleteVersion, yank } from "../registry/manage.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, withCommonOptions } from "./common.ts";

export function registerYank(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("yank")
      .description("hide a version from ranges and latest (still pullable by exact version)")
      .argument("<pkgname>", "package name")
      .argument("<version>", "version to yank")
      .option("--reason <text>", "why, recorded in tycho.json")
      .option("--undo", "unyank the version", false),
  ).action((pkgname: string, version: string, options: Options<{ reason?: string; undo: boolean }>) =>
    withScope(cli, options, async ({ registry, out }) => {
      const meta = await yank(registry, {
        pkg: pkgname,
        version,
        undo: options.undo,
        ...(options.reason ? { reason: options.reason } : {}),
      });
      out.line(`${options.undo ? "Unyanked" : "Yanked"}: ${pkgname}, Version ${version}`);
      out.result({ pkg: pkgname, version, yanked: !options.undo, latest: meta.latest });
    }),
  );
}

export function registerDelete(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("delete")
      .description("delete a version (latest moves to the highest remaining version)")
      .argument("<pkgname>", "package name")
      .argument("<version>", "version to delete"),
  ).action((pkgname: string, version: string, options: Options<object>) =>
    withScope(cli, options, async ({ registry, out }) => {
      const meta = await deleteVersion(registry, { pkg: pkgname, version });
      out.line(`Deleted: ${pkgname}, Version ${version}`);
      out.result({ pkg: pkgname, version, latest: meta.latest });
    }),
  );
}

export function registerVerify(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("verify")
      .description(
        "re-read stored versions and check them against the sha256 recorded at push (or the S3 ETag)",
      )
      .argument("<pkgname>", "package name")
      .argument("[versions...]", "versions (default: all)"),
  ).action((pkgname: string, versions: string[], options: Options<object>) =>
    withScope(cli, options, async ({ registry, out }) => {
      const entries = await verifyVersions(registry, pkgname, versions);
      for (const entry of entries) {
        if (entry.status === "ok")
          out.line(`OK: ${entry.pkg}, Version ${entry.version}${entry.by === "etag" ? " (ETag)" : ""}`);
        else if (entry.status === "unverifiable")
          out.line(`Unverifiable: ${entry.pkg}, Version ${entry.version} (no sha256 recorded)`);
        else
          out.line(
            `Corrupt: ${entry.pkg}, Version ${entry.version} (expected ${entry.expected}, got ${entry.actual})`,
          );
      }
      out.result(entries);
      const corrupt = entries.filter((entry) => entry.status === "mismatch");
      if (corrupt.length > 0)
        throw new WharfError(
          "CHECKSUM_MISMATCH",
          `Checksum Mismatch: ${corrupt.map((entry) => `${entry.pkg} ${entry.version}`).join(", ")}`,
        );
    }),
  );
}

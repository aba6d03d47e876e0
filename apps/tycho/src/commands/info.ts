import type { Command } from "commander";
import { packageInfo, versionInfo } from "../registry/inspect.ts";
import { type CliEnv, withScope } from "../scope.ts";
import { type Options, withCommonOptions } from "./common.ts";

export function registerInfo(program: Command, cli: CliEnv): void {
  withCommonOptions(
    program
      .command("info")
      .description("describe a package, or one version (size, sha256, pushed at/by)")
      .argument("<pkgname>", "package name")
      .argument("[version]", "a version"),
  ).action((pkgname: string, version: string | undefined, options: Options<object>) =>
    withScope(cli, options, async ({ registry, out }) => {
      if (version === undefined) {
        const info = await packageInfo(registry, pkgname);
        out.line(out.green(info.pkg));
        out.line(`  filename: ${info.localname}`);
        out.line(`  latest: ${info.latest ?? "None"}`);
        const yanked = info.versions.filter((entry) => entry.yanked).length;
        out.line(`  versions: ${info.versions.length}${yanked > 0 ? ` (${yanked} yanked)` : ""}`);
        out.result(info);
        return;
      }
      const info = await versionInfo(registry, pkgname, version);
      out.line(out.green(`${info.pkg} ${info.version}${info.latest ? " (latest)" : ""}`));
      out.line(`  size: ${info.size}`);
      out.line(`  sha256: ${info.sha256 ?? "not recorded"}`);
      out.line(`  etag: "${info.etag}"`);
      out.line(`  pushed at: ${info.pushedAt ?? info.lastModified}`);
      out.line(`  pushed by: ${info.pushedBy ?? "unknown"}`);
      if (info.yanked)
        out.line(
          `  yanked: ${info.yanked.at} by ${info.yanked.by}${info.yanked.reason ? ` (${info.yanked.reason})` : ""}`,
        );
      out.result(info);
    }),
  );
}

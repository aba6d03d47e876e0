import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { anyJson, type FuzzSurface, hostileText, mutatedJson } from "@wharf/test-kit";
import fc from "fast-check";
import { exitCodeByCode } from "../src/exit-codes.ts";
import { workspace } from "./harness.ts";

/** One fuzzed CLI run: the config file's text and the command line. */
export interface TychoInput {
  readonly config: string;
  readonly argv: readonly string[];
}

const validConfig = {
  tycho: { outdir: "out", concurrency: 4, part_size_mb: 8, claim_stale_after_minutes: 60 },
  local: { path: { env: "FUZZ_REGISTRY", default: "registry" } },
};
const commands = [
  "init",
  "push",
  "promote",
  "pull",
  "pull-list",
  "list",
  "list-versions",
  "info",
  "yank",
  "delete",
  "verify",
];
const word = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("pkg", "1.0.0", "2.0.0", "latest", "^1.0", ">=1 <2", "data.bin") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "--json",
      "--force",
      "--no-force",
      "--undo",
      "--promote-latest",
      "--no-promote-latest",
      "--version",
      "--jobs",
      "--concurrency",
      "--reason",
      "--outfile",
      "--config",
      "--help",
      "-h",
      "--",
      "-",
      "0",
      "-1",
      "65",
      "1e3",
    ),
  },
  { weight: 2, arbitrary: hostileText },
);
const argvArb = fc.tuple(
  fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...commands) }, hostileText),
  fc.array(word, { maxLength: 6 }),
);

export const tychoInputs: fc.Arbitrary<TychoInput> = fc.record({
  config: fc.oneof(
    { weight: 3, arbitrary: fc.constant(JSON.stringify(validConfig)) },
    { weight: 4, arbitrary: mutatedJson(validConfig) },
    anyJson.map((v) => JSON.stringify(v) ?? ""),
  ),
  argv: argvArb.map(([command, rest]) => [command, ...rest]),
});

/** A path the fuzzer chose, kept inside the work folder: the CLI writes where it is told, by design. */
function confine(value: string): string {
  return join("sandbox", value.replace(/\.\./g, "__").replace(/^[\\/]+/, "") || "empty");
}

function confineValue(value: unknown): unknown {
  if (typeof value === "string") return confine(value);
  if (value && typeof value === "object" && "default" in value)
    return { ...value, default: confineValue((value as { default: unknown }).default) };
  return value;
}

/**
 * The config and command line made safe to run as root on a developer's machine: every path
 * (outdir, storage, dotenv, local.path, --outfile, --config, push's file) stays in the work
 * folder, and an s3 section points at a closed loopback port, so no input writes outside or
 * waits on the network. Everything else reaches the parsers as generated.
 */
export function tame(input: TychoInput): TychoInput {
  let config = input.config;
  try {
    const parsed = JSON.parse(config) as Record<string, Record<string, unknown>> | null;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      for (const [section, keys] of [
        ["tycho", ["outdir", "storage", "dotenv"]],
        ["local", ["path"]],
      ] as const) {
        const values = parsed[section];
        if (values && typeof values === "object")
          for (const key of keys) if (key in values) values[key] = confineValue(values[key]);
      }
      if (parsed.s3 && typeof parsed.s3 === "object") parsed.s3.endpoint_url = "http://127.0.0.1:9";
      config = JSON.stringify(parsed);
    }
  } catch {
    // not JSON: reaches the parser as it is
  }
  const argv: string[] = [];
  let positional = 0;
  for (const [i, arg] of input.argv.entries()) {
    const previous = input.argv[i - 1];
    const option = /^--(outfile|config)=(.*)$/s.exec(arg);
    if (option) argv.push(`--${option[1]}=${confine(option[2] ?? "")}`);
    else if (previous === "--outfile" || previous === "--config") argv.push(confine(arg));
    else if (!arg.startsWith("-") && i > 0 && ++positional >= 3 && input.argv[0] === "push")
      argv.push(confine(arg));
    else argv.push(arg);
  }
  return { config, argv };
}

const knownExits = new Set(Object.values(exitCodeByCode).filter((code) => code !== exitCodeByCode.INTERNAL));

/**
 * tycho's CLI in this process (`run` from cli.ts), in a work folder with a local registry that
 * holds a package `keep` the inputs never name. Each input writes its config to .tychoreg.json.
 */
export async function tychoSurface(): Promise<FuzzSurface<TychoInput> & AsyncDisposable> {
  const ws = await workspace({ config: validConfig, env: { FUZZ_REGISTRY: "registry" } });
  const payload = "kept package\n";
  await ws.file("keep.bin", payload);
  for (const args of [
    ["init", "keep", "keep.bin"],
    ["push", "keep", "1.0.0", "keep.bin"],
    ["init", "pkg", "data.bin"],
    ["push", "pkg", "1.0.0", "keep.bin"],
  ]) {
    const result = await ws.run(...args);
    if (result.code !== 0) throw new Error(`setup ${args.join(" ")}: ${result.stderr}`);
  }
  const configPath = join(ws.dir, ".tychoreg.json");
  const goodConfig = JSON.stringify(validConfig);

  const check = async (raw: TychoInput) => {
    const input = tame(raw);
    await writeFile(configPath, input.config);
    const result = await ws.run(...input.argv);
    const code = result.code ?? -1;
    if (code === 0) return;
    if (!knownExits.has(code))
      throw new Error(`exit ${code} (not a usage/config/store error code): ${result.stderr.slice(0, 400)}`);
    const message = result.stderr.trim();
    if (message === "") throw new Error(`exit ${code} with nothing on stderr`);
    if (/^\s+at .+:\d+:\d+\)?$/m.test(message))
      throw new Error(`exit ${code} with a stack trace: ${message}`);
  };
  const good = async () => {
    await writeFile(configPath, goodConfig);
    const result = await ws.run(
      "pull",
      "keep",
      "--version",
      "1.0.0",
      "--outfile",
      "sandbox/keep.out",
      "--force",
    );
    const pulled = await readFile(join(ws.dir, "sandbox/keep.out"), "utf8").catch(() => "");
    if (result.code !== 0 || pulled !== payload)
      throw new Error(`a good pull exited ${result.code}: ${result.stderr.slice(0, 300)}`);
  };
  return {
    name: "fuzz-tycho",
    inputs: tychoInputs,
    check,
    good,
    [Symbol.asyncDispose]: () => ws[Symbol.asyncDispose](),
  };
}

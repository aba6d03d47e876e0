import { readFile } from "node:fs/promises";
import { isWharfError } from "@wharf/errors";
import { Command, CommanderError, Option } from "commander";
import { parseDuration } from "./duration.ts";
import { createIssuer } from "./issuer.ts";
import {
  type Algorithm,
  asymmetricAlgorithms,
  defaultAlgorithmFor,
  hmacAlgorithms,
  isHmac,
  loadPrivateKey,
} from "./keys.ts";
import { parseScope } from "./permissions.ts";
import type { Claims } from "./verifier.ts";

export interface TokenCommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now?: () => Date;
}

interface TokenOptions {
  sub: string;
  username?: string;
  scope: string[];
  ttl: string;
  claim: string[];
  alg?: Algorithm;
  secretEnv: string;
  privateKey?: string;
  iss?: string;
  aud?: string;
  kid?: string;
  jti?: string;
}

class UsageError extends Error {}

/**
 * `./wharf token` (`pnpm -s mint-token`): mints a token with the configured secret or private key and prints it on stdout.
 * Returns the exit code: 0, or 2 after one line on stderr. The secret is never printed.
 *
 * @example
 * await runTokenCommand(["--sub", "bob", "--scope", "org/repo:write", "--ttl", "1h"], io);
 */
export async function runTokenCommand(argv: readonly string[], io: TokenCommandIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    const options = program.opts<TokenOptions>();
    io.stdout(`${await mint(options, io)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    io.stderr(`token: ${describe(error)}\n`);
    return 2;
  }
}

function buildProgram(io: TokenCommandIo): Command {
  const collect = (value: string, previous: string[]) => [...previous, value];
  return new Command("token")
    .description("Mint a JWT for Wharf services with the configured secret or private key.")
    .requiredOption("--sub <subject>", "the token's subject (sub)")
    .option("--username <name>", "a username claim (timone-style Basic auth)")
    .option("--scope <scope>", "a permission, <resource-pattern>:<read|write|admin>; repeatable", collect, [])
    .option("--ttl <duration>", "lifetime: seconds or a duration such as 1h, 30m, 2 weeks", "1h")
    .option(
      "--claim <key=value>",
      "an extra claim; the value is JSON when it parses, else a string; repeatable",
      collect,
      [],
    )
    .addOption(
      new Option("--alg <algorithm>", "signing algorithm (default HS256, or the key's own)").choices([
        ...hmacAlgorithms,
        ...asymmetricAlgorithms,
      ]),
    )
    .option("--secret-env <VAR>", "environment variable holding the HMAC secret", "WHARF_JWT_SECRET")
    .option("--private-key <file>", "PEM private key file for RS/PS/ES/EdDSA")
    .option("--iss <issuer>", "the issuer claim (iss)")
    .option("--aud <audience>", "the audience claim (aud)")
    .option("--kid <id>", "the key id header (kid), for JWKS verifiers")
    .option("--jti <id>", "the token id claim (jti)")
    .helpOption("-h, --help")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: () => {}, outputError: () => {} })
    .allowExcessArguments(false);
}

async function mint(options: TokenOptions, io: TokenCommandIo): Promise<string> {
  const claims: Claims = {};
  for (const entry of options.claim) {
    const equals = entry.indexOf("=");
    if (equals <= 0) throw new UsageError(`--claim ${JSON.stringify(entry)} is not key=value`);
    claims[entry.slice(0, equals)] = claimValue(entry.slice(equals + 1));
  }
  for (const scope of options.scope) {
    if (!parseScope(scope))
      throw new UsageError(`--scope ${JSON.stringify(scope)} is not <resource-pattern>:<read|write|admin>`);
  }
  if (options.scope.length > 0) claims.scope = options.scope.join(" ");
  if (options.username !== undefined) claims.username = options.username;
  const expiresIn = /^\d+$/.test(options.ttl) ? Number(options.ttl) : parseDuration(options.ttl);

  const issuer = options.privateKey === undefined ? hmacIssuer(options, io) : await keyIssuer(options, io);
  return issuer.issue(claims, { expiresIn, subject: options.sub, jti: options.jti });
}

function hmacIssuer(options: TokenOptions, io: TokenCommandIo) {
  const algorithm = options.alg ?? "HS256";
  if (!isHmac(algorithm)) throw new UsageError(`${algorithm} needs --private-key`);
  const secret = io.env[options.secretEnv];
  if (!secret)
    throw new UsageError(`the environment variable ${options.secretEnv} holding the secret is not set`);
  return createIssuer({ ...common(options, io), algorithm, secret });
}

async function keyIssuer(options: TokenOptions, io: TokenCommandIo) {
  const path = options.privateKey as string;
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`cannot read the private key file ${path}`);
  }
  const privateKey = loadPrivateKey(pem);
  const algorithm = options.alg ?? defaultAlgorithmFor(privateKey);
  if (algorithm === undefined) throw new UsageError("the private key's type is not supported");
  if (isHmac(algorithm)) throw new UsageError(`${algorithm} uses a secret, not --private-key`);
  return createIssuer({ ...common(options, io), algorithm, privateKey });
}

function common(options: TokenOptions, io: TokenCommandIo) {
  return { issuer: options.iss, audience: options.aud, keyId: options.kid, now: io.now };
}

function claimValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(error: unknown): string {
  if (error instanceof CommanderError) return error.message.replace(/^error: /, "");
  if (error instanceof UsageError || isWharfError(error)) return error.message;
  return "unexpected failure";
}

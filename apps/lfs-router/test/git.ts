import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A git user: its own HOME with identity, the LFS filters and a credential store for the router. */
export interface GitUser {
  readonly name: string;
  readonly home: string;
  run(args: readonly string[], cwd: string, extraEnv?: Record<string, string>): Promise<GitResult>;
  /** Like `run`, but throws with git's output when the command fails. */
  ok(args: readonly string[], cwd: string, extraEnv?: Record<string, string>): Promise<string>;
}

export async function gitUser(
  root: string,
  name: string,
  serverUrl: string,
  password: string,
): Promise<GitUser> {
  const home = join(root, `home-${name}`);
  await mkdir(home, { recursive: true });
  const credentials = join(home, "credentials");
  const origin = new URL(serverUrl);
  await writeFile(
    credentials,
    `http://${encodeURIComponent(name)}:${encodeURIComponent(password)}@${origin.host}\n`,
    {
      mode: 0o600,
    },
  );
  await writeFile(
    join(home, ".gitconfig"),
    [
      "[user]",
      `\tname = ${name}`,
      `\temail = ${name}@example.test`,
      "[init]",
      "\tdefaultBranch = main",
      '[filter "lfs"]',
      "\tclean = git-lfs clean -- %f",
      "\tsmudge = git-lfs smudge -- %f",
      "\tprocess = git-lfs filter-process",
      "\trequired = true",
      "[credential]",
      `\thelper = store --file=${credentials}`,
      "[lfs]",
      "\tlocksverify = true",
      "[advice]",
      "\tdetachedHead = false",
      "",
    ].join("\n"),
  );
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
    LANG: "C",
  };
  const run = (args: readonly string[], cwd: string, extraEnv: Record<string, string> = {}) =>
    new Promise<GitResult>((resolve) => {
      execFile(
        "git",
        [...args],
        { cwd, env: { ...env, ...extraEnv }, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  return {
    name,
    home,
    run,
    async ok(args, cwd, extraEnv) {
      const result = await run(args, cwd, extraEnv);
      if (result.code !== 0)
        throw new Error(`git ${args.join(" ")} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
      return result.stdout;
    },
  };
}

/** A fresh working repository with `*.bin` tracked by LFS at `lfsUrl` and `origin` set to `remote`. */
export async function initRepo(user: GitUser, dir: string, remote: string, lfsUrl: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await user.ok(["init", "-q"], dir);
  await user.ok(["lfs", "install", "--local"], dir);
  await user.ok(["remote", "add", "origin", remote], dir);
  await writeFile(join(dir, ".gitattributes"), "*.bin filter=lfs diff=lfs merge=lfs -text lockable\n");
  await writeFile(join(dir, ".lfsconfig"), `[lfs]\n\turl = ${lfsUrl}\n`);
}

/** Writes `size` bytes derived from `seed` (distinct per seed, cheap to produce); returns the sha256. */
export async function writeFileOfSize(path: string, size: number, seed: string): Promise<string> {
  const hash = createHash("sha256");
  const block = Buffer.alloc(1024 * 1024);
  const header = createHash("sha256").update(seed).digest();
  async function* chunks() {
    for (let offset = 0, n = 0; offset < size; n++) {
      const length = Math.min(block.length, size - offset);
      header.copy(block, 0);
      block.writeUInt32BE(n, 32);
      block.fill(n & 0xff, 36, length);
      const chunk = Buffer.from(block.subarray(0, length));
      hash.update(chunk);
      offset += length;
      yield chunk;
    }
  }
  await pipeline(chunks(), createWriteStream(path));
  return hash.digest("hex");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

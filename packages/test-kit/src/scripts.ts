import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { WharfError } from "@wharf/errors";

/** The repository's `infra/` folder, where the service start/stop scripts live. */
export const infraDir = fileURLToPath(new URL("../../../infra/", import.meta.url));

/**
 * Parses the `KEY=value` lines the infra scripts print (values may be double-quoted; other lines
 * are ignored).
 */
export function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const value = match[2]!;
    out[match[1]!] =
      value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return out;
}

export interface ScriptResult {
  vars: Record<string, string>;
  stderr: string;
}

/**
 * Runs `infra/<script>` with `args` and returns the `KEY=value` lines it printed. A non-zero exit
 * rejects with `UNAVAILABLE`, carrying the script's stderr (which includes the daemon's log tail).
 */
export function runInfraScript(
  script: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [`${infraDir}${script}`, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (cause) =>
      reject(new WharfError("UNAVAILABLE", `cannot run infra/${script}`, { cause })),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve({ vars: parseEnvLines(stdout), stderr });
      else
        reject(
          new WharfError(
            "UNAVAILABLE",
            `infra/${script} ${args.join(" ")} failed (${code ?? signal}):\n${stderr.trimEnd()}`,
            { details: { script, args, code, stderr } },
          ),
        );
    });
  });
}

/** True when nothing listens on 127.0.0.1:`port` and it can be bound. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The first port of the kernel's ephemeral range, from which outgoing connections take their local
 * ports: a port found free above it may be taken by one before the server that wants it starts.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 21_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * Finds `count` consecutive free loopback ports and returns the first. Ports are drawn at random
 * from 20000 up to the ephemeral range (see {@link ephemeralLow}), so parallel runs rarely collide
 * and no outgoing connection takes one before its server listens; a start script that still finds
 * its port taken fails and the caller retries.
 */
export async function freePortBlock(count: number): Promise<number> {
  const top = ephemeralLow();
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * Math.max(1, top - 20_000 - count));
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await portIsFree(port);
    if (free) return base;
  }
  throw new WharfError("UNAVAILABLE", `no block of ${count} free loopback ports found`);
}

/** True when a TCP connection to `host:port` succeeds within `timeoutMs`. */
export function tcpAlive(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (alive: boolean) => {
      socket.destroy();
      resolve(alive);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * 300 concurrent logins (connect, USER/PASS, QUIT) against the gateway and against vsftpd, first in
 * plain text, then over explicit FTPS (AUTH TLS, TLS 1.3: what deployments see). pyftpdlib publishes
 * 0.19 s for the plain load; the goal for FTPS is 0.3 s. Each login has a deadline (20 s), so the bench ends
 * even when a server stalls; logins that failed or timed out are counted, not waited for. The bench
 * client shares the machine's cores with the server, so the gateway's own CPU time per login (from
 * /proc/<pid>/stat) is printed too: it is what a change to the gateway moves, wall time or not.
 * `pnpm bench ftps-logins [count]`
 */

import { mkdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { benchUser, startGateway, startVsftpd, workDir } from "./ftps-lib.ts";

const count = Number(process.argv[2] ?? 300);

function login(port: number, secure = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const plain = connect({ port, host: "127.0.0.1" });
    let socket: Socket = plain;
    let buffer = "";
    const steps = [
      ...(secure ? ["AUTH TLS\r\n"] : []),
      `USER ${benchUser.login}\r\n`,
      `PASS ${benchUser.password}\r\n`,
      "QUIT\r\n",
    ];
    plain.setEncoding("utf8");
    const onData = (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf("\r\n");
      while (end !== -1) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\r\n");
        if (line[3] === "-") continue;
        const code = Number(line.slice(0, 3));
        if (code >= 400) {
          socket.destroy();
          return reject(new Error(line));
        }
        if (code === 221) {
          socket.end();
          return resolve();
        }
        if (code === 234) {
          // AUTH TLS accepted: the rest of the session runs inside TLS 1.3 on the same connection.
          plain.off("data", onData);
          socket = tlsConnect({ socket: plain, rejectUnauthorized: false, minVersion: "TLSv1.3" }, () =>
            socket.write(steps.shift() ?? ""),
          );
          socket.setEncoding("utf8");
          socket.on("data", onData);
          socket.on("error", reject);
          return;
        }
        socket.write(steps.shift() ?? "");
      }
    };
    plain.on("data", onData);
    plain.on("error", reject);
    socket.setTimeout(loginDeadlineMs, () => {
      socket.destroy();
      reject(new Error("login timed out"));
    });
  });
}

const loginDeadlineMs = 20_000;

/** User plus system CPU time of process `pid` so far, in ms (the kernel counts it in 10 ms ticks). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Measured {
  seconds: number;
  ok: number;
  errors: string[];
  /** The server's own CPU time per login, in ms (vsftpd forks a process per login: not measured). */
  cpuMsPerLogin?: number;
}

/** Seconds until every login finished (or failed), how many succeeded, and the server's CPU per login. */
async function measure(
  server: { port: number; pid: number },
  secure = false,
  cpu = false,
): Promise<Measured> {
  const cpuBefore = cpu ? cpuMs(server.pid) : 0;
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, () => login(server.port, secure)));
  const errors = results.flatMap((r) =>
    r.status === "rejected" ? [String(r.reason?.message ?? r.reason)] : [],
  );
  return {
    seconds: (performance.now() - started) / 1000,
    ok: count - errors.length,
    errors,
    ...(cpu ? { cpuMsPerLogin: (cpuMs(server.pid) - cpuBefore) / count } : {}),
  };
}

const describe = (m: Measured) =>
  `${m.seconds.toFixed(2)} s, ${m.ok}/${count} ok${m.cpuMsPerLogin === undefined ? "" : `, ${m.cpuMsPerLogin.toFixed(2)} ms CPU per login`}${m.errors.length ? ` (first failure: ${m.errors[0]})` : ""}`;

const dir = await workDir();
const root = join(dir.path, "root");
mkdirSync(root);
const gateway = await startGateway({ storageUrl: `file://${root}`, cert: dir.cert, key: dir.key });
// The same gateway with FTP_TLS_GROUPS=X25519:P-256: no hybrid post-quantum key exchange (README).
const classic = await startGateway({
  storageUrl: `file://${root}`,
  cert: dir.cert,
  key: dir.key,
  env: { FTP_TLS_GROUPS: "X25519:P-256" },
});
const vsftpd = await startVsftpd({ root, cert: dir.cert, key: dir.key, dir: dir.path });
const none: Measured = { seconds: 0, ok: 0, errors: [] };
let [ours, theirs, oursTls, theirsTls, classicTls] = [none, none, none, none, none];
try {
  await measure(gateway);
  ours = await measure(gateway, false, true);
  theirs = await measure(vsftpd);
  await measure(gateway, true);
  oursTls = await measure(gateway, true, true);
  await measure(classic, true);
  classicTls = await measure(classic, true, true);
  theirsTls = await measure(vsftpd, true);
} finally {
  await gateway.stop();
  await classic.stop();
  await vsftpd.stop();
  await dir.dispose();
}
process.stdout.write(
  `plain  gateway: ${describe(ours)}\nplain  vsftpd: ${describe(theirs)}; pyftpdlib published 0.19 s\n`,
);
process.stdout.write(
  `FTPS   gateway: ${describe(oursTls)} (OpenSSL's default groups: X25519MLKEM768 first)\n` +
    `FTPS   gateway, FTP_TLS_GROUPS=X25519:P-256: ${describe(classicTls)}\n` +
    `FTPS   vsftpd: ${describe(theirsTls)}; goal 0.3 s\n`,
);
const reference = (a: Measured, b: Measured) =>
  b.ok === count
    ? `${(b.seconds / a.seconds).toFixed(2)}x vsftpd ${b.seconds.toFixed(2)} s`
    : `vsftpd managed ${b.ok}/${count} in ${b.seconds.toFixed(2)} s`;
process.stdout.write(
  `ftps-logins: ${oursTls.seconds.toFixed(2)} s for ${oursTls.ok}/${count} concurrent FTPS logins (${reference(oursTls, theirsTls)}); ${classicTls.seconds.toFixed(2)} s with FTP_TLS_GROUPS=X25519:P-256; plain ${ours.seconds.toFixed(2)} s (${reference(ours, theirs)}); gateway CPU per login ${oursTls.cpuMsPerLogin?.toFixed(2)} ms FTPS, ${ours.cpuMsPerLogin?.toFixed(2)} ms plain\n`,
);

/**
 * 300 concurrent logins (connect, USER/PASS, QUIT) against the gateway and against vsftpd, first in
 * plain text, then over explicit FTPS (AUTH TLS, TLS 1.3: what deployments see). pyftpdlib publishes
 * 0.19 s for the plain load; the goal for FTPS is 0.3 s. Each login has a deadline (20 s), so the bench ends
 * even when a server stalls; logins that failed or timed out are counted, not waited for.
 * `pnpm bench ftps-logins [count]`
 */

import { mkdirSync } from "node:fs";
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

/** Seconds until every login finished (or failed), and how many succeeded. */
async function measure(
  port: number,
  secure = false,
): Promise<{ seconds: number; ok: number; errors: string[] }> {
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, () => login(port, secure)));
  const errors = results.flatMap((r) =>
    r.status === "rejected" ? [String(r.reason?.message ?? r.reason)] : [],
  );
  return { seconds: (performance.now() - started) / 1000, ok: count - errors.length, errors };
}

const describe = (m: { seconds: number; ok: number; errors: string[] }) =>
  `${m.seconds.toFixed(2)} s, ${m.ok}/${count} ok${m.errors.length ? ` (first failure: ${m.errors[0]})` : ""}`;

const dir = await workDir();
const root = join(dir.path, "root");
mkdirSync(root);
const gateway = await startGateway({ storageUrl: `file://${root}`, cert: dir.cert, key: dir.key });
const vsftpd = await startVsftpd({ root, cert: dir.cert, key: dir.key, dir: dir.path });
let ours = { seconds: 0, ok: 0, errors: [] as string[] };
let theirs = { seconds: 0, ok: 0, errors: [] as string[] };
let oursTls = { seconds: 0, ok: 0, errors: [] as string[] };
let theirsTls = { seconds: 0, ok: 0, errors: [] as string[] };
try {
  await measure(gateway.port);
  ours = await measure(gateway.port);
  theirs = await measure(vsftpd.port);
  await measure(gateway.port, true);
  oursTls = await measure(gateway.port, true);
  theirsTls = await measure(vsftpd.port, true);
} finally {
  await gateway.stop();
  await vsftpd.stop();
  await dir.dispose();
}
process.stdout.write(
  `plain  gateway: ${describe(ours)}\nplain  vsftpd: ${describe(theirs)}; pyftpdlib published 0.19 s\n`,
);
process.stdout.write(
  `FTPS   gateway: ${describe(oursTls)}\nFTPS   vsftpd: ${describe(theirsTls)}; goal 0.3 s\n`,
);
const reference = (a: typeof ours, b: typeof ours) =>
  b.ok === count
    ? `${(b.seconds / a.seconds).toFixed(2)}x vsftpd ${b.seconds.toFixed(2)} s`
    : `vsftpd managed ${b.ok}/${count} in ${b.seconds.toFixed(2)} s`;
process.stdout.write(
  `ftps-logins: ${oursTls.seconds.toFixed(2)} s for ${oursTls.ok}/${count} concurrent FTPS logins (${reference(oursTls, theirsTls)}); plain ${ours.seconds.toFixed(2)} s (${reference(ours, theirs)})\n`,
);

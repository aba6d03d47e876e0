/**
 * 300 concurrent logins (connect, AUTH-less USER/PASS, QUIT) against the gateway and against vsftpd.
 * pyftpdlib publishes 0.19 s for the same load. Each login has a deadline (20 s), so the bench ends
 * even when a server stalls; logins that failed or timed out are counted, not waited for.
 * `pnpm bench ftps-logins [count]`
 */

import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { benchUser, startGateway, startVsftpd, workDir } from "./ftps-lib.ts";

const count = Number(process.argv[2] ?? 300);

function login(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let buffer = "";
    const steps = [`USER ${benchUser.login}\r\n`, `PASS ${benchUser.password}\r\n`, "QUIT\r\n"];
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
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
        socket.write(steps.shift() ?? "");
      }
    });
    socket.on("error", reject);
    socket.setTimeout(loginDeadlineMs, () => {
      socket.destroy();
      reject(new Error("login timed out"));
    });
  });
}

const loginDeadlineMs = 20_000;

/** Seconds until every login finished (or failed), and how many succeeded. */
async function measure(port: number): Promise<{ seconds: number; ok: number; errors: string[] }> {
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, () => login(port)));
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
try {
  await measure(gateway.port);
  ours = await measure(gateway.port);
  theirs = await measure(vsftpd.port);
} finally {
  await gateway.stop();
  await vsftpd.stop();
  await dir.dispose();
}
process.stdout.write(`gateway: ${describe(ours)}\nvsftpd: ${describe(theirs)}; pyftpdlib published 0.19 s\n`);
const reference =
  theirs.ok === count
    ? `${(theirs.seconds / ours.seconds).toFixed(2)}x vsftpd ${theirs.seconds.toFixed(2)} s`
    : `vsftpd managed ${theirs.ok}/${count} in ${theirs.seconds.toFixed(2)} s`;
process.stdout.write(
  `ftps-logins: ${ours.seconds.toFixed(2)} s for ${ours.ok}/${count} concurrent logins (${reference})\n`,
);

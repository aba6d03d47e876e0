/**
 * 300 concurrent logins (connect, AUTH-less USER/PASS, QUIT) against the gateway and against vsftpd.
 * pyftpdlib publishes 0.19 s for the same load. `pnpm bench ftps-logins [count]`
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
        if (code >= 400) return reject(new Error(line));
        if (code === 221) {
          socket.end();
          return resolve();
        }
        socket.write(steps.shift() ?? "");
      }
    });
    socket.on("error", reject);
  });
}

async function measure(port: number): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, () => login(port)));
  return (performance.now() - started) / 1000;
}

const dir = await workDir();
const root = join(dir.path, "root");
mkdirSync(root);
const gateway = await startGateway({ storageUrl: `file://${root}`, cert: dir.cert, key: dir.key });
const vsftpd = await startVsftpd({ root, cert: dir.cert, key: dir.key, dir: dir.path });
let ours = 0;
let theirs = 0;
try {
  await measure(gateway.port);
  ours = await measure(gateway.port);
  theirs = await measure(vsftpd.port);
} finally {
  await gateway.stop();
  await vsftpd.stop();
  await dir.dispose();
}
process.stdout.write(`vsftpd: ${theirs.toFixed(2)} s; pyftpdlib published 0.19 s\n`);
process.stdout.write(
  `ftps-logins: ${ours.toFixed(2)} s for ${count} concurrent logins (${(theirs / ours).toFixed(2)}x vsftpd ${theirs.toFixed(2)} s)\n`,
);

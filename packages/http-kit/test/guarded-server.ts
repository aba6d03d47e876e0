/**
 * A server built like every app's main.ts (guard first, then logger, listen, onShutdown), for the
 * process tests. GET /reject, /reset and /bug raise an unhandled rejection, an unheard stream error
 * and a programming error; GET /fill logs 256 KiB; HANG=1 makes the drain never finish.
 */
import { PassThrough } from "node:stream";
import { createLogger, guardProcess, onShutdown, StartupError, serveHttp, startStep } from "../src/index.ts";

const guard = guardProcess("guarded");
if (process.env.FAIL_AT_START === "startup")
  throw new StartupError(
    "KEY_FILE",
    "cannot read /nowhere/key.pem (ENOENT)",
    "set KEY_FILE to a readable file",
  );
if (process.env.FAIL_AT_START === "bug") throw new TypeError("a bug while starting");

const logger = createLogger({ name: "guarded" });
const server = await startStep("PORT", "stop what listens there or set another PORT", () =>
  serveHttp(
    (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/reject") void Promise.reject(new Error("a promise nobody awaited"));
      if (path === "/reset")
        new PassThrough().destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
      if (path === "/fill") for (let i = 0; i < 256; i++) logger.info({ filler: "x".repeat(1024) }, "filler");
      if (path === "/bug")
        setImmediate(() => {
          throw new TypeError("cannot read properties of undefined");
        });
      return new Response("ok");
    },
    { port: Number(process.env.PORT), host: "127.0.0.1" },
  ),
);
onShutdown(logger, [
  () => server.close(),
  // A drain that never ends, holding the event loop as an open connection would.
  () => (process.env.HANG === "1" ? new Promise<void>(() => setInterval(() => undefined, 1000)) : undefined),
]);
guard.serving(logger);
logger.info({ url: server.url }, "listening");

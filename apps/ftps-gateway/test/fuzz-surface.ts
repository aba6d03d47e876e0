import { setImmediate as nextTurn } from "node:timers/promises";
import { openStorage } from "@wharf/storage-driver";
import { type FuzzSurface, hostileText, rawBytes, tempDir } from "@wharf/test-kit";
import fc from "fast-check";
import { type Cut, maxLineBytes, type Script, SessionDriver, type Step } from "./fuzz-session.ts";
import { startGateway } from "./harness.ts";
import { RawFtp, readAllData } from "./raw-client.ts";

const verbs = [
  "USER",
  "PASS",
  "SYST",
  "FEAT",
  "OPTS",
  "HELP",
  "NOOP",
  "STAT",
  "ABOR",
  "TYPE",
  "MODE",
  "STRU",
  "ALLO",
  "PWD",
  "CWD",
  "CDUP",
  "MKD",
  "RMD",
  "DELE",
  "RNFR",
  "RNTO",
  "SIZE",
  "MDTM",
  "MLST",
  "REST",
  "PASV",
  "EPSV",
  "PORT",
  "EPRT",
  "LIST",
  "NLST",
  "MLSD",
  "RETR",
  "STOR",
  "APPE",
  "PBSZ",
  "PROT",
  "AUTH",
  "SITE",
  "XPWD",
];
const paths = [
  "big.bin",
  "small.txt",
  "dir",
  "dir/inner.txt",
  "/",
  "..",
  "../..",
  "new.bin",
  "nope",
  "a b",
  "*",
];

const argument = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...paths) },
  fc.constantFrom("0", "-1", "99999999999999999", "A", "I", "E", "S", "P", "C", "TLS", "ALL", "1", "2"),
  fc.constantFrom("127,0,0,1,4,1", "|1|127.0.0.1|1025|", "|2|::1|80|", "1,2,3", "UTF8 ON", "-la"),
  hostileText.map((t) => t.replace(/[\r\n]/g, "")),
);
const line: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...verbs) },
          fc.constantFrom(...verbs).map((v) => v.toLowerCase()),
        ),
        fc.option(argument, { nil: undefined }),
      )
      .map(([verb, arg]) => ({ kind: "line" as const, text: arg === undefined ? verb : `${verb} ${arg}` })),
  },
  // a bare CR or LF would end the line early and put this client out of step with the replies
  rawBytes.map((text) => ({ kind: "line" as const, text: text.replace(/[\r\n]/g, "") })),
  fc
    .constantFrom(
      "",
      " ",
      "NOOP\x00",
      `NOOP ${"x".repeat(3000)}`,
      `RETR ${"a/".repeat(1022)}`,
      `STOR ${"b".repeat(2041)}`,
      "\xff\xf4\xff\xf2ABOR",
    )
    .map((text) => ({ kind: "line" as const, text })),
);
const cut: fc.Arbitrary<Cut | undefined> = fc.option(
  fc.record({
    at: fc.constantFrom<Cut["at"]>("after-pasv", "after-150", "mid-data", "after-data"),
    how: fc.constantFrom<Cut["how"]>("ABOR", "QUIT", "fin-data", "rst-data", "fin-control", "rst-control"),
  }),
  { nil: undefined, freq: 2 },
);
const transfer: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant("transfer" as const),
  verb: fc.constantFrom("RETR", "RETR", "STOR", "APPE", "LIST", "NLST", "MLSD"),
  path: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...paths) }, argument),
  rest: fc.option(fc.constantFrom(0, 1, 1000, 1 << 20, 5 << 20), { nil: undefined, freq: 4 }),
  passive: fc.constantFrom("EPSV", "PASV"),
  cut,
});

export const ftpInputs: fc.Arbitrary<Script> = fc.record({
  login: fc.oneof(
    { weight: 8, arbitrary: fc.constant("good" as const) },
    fc.constantFrom("bad" as const, "none" as const),
  ),
  steps: fc.array(fc.oneof({ weight: 2, arbitrary: line }, transfer), { minLength: 1, maxLength: 5 }),
});

/** Resolves once the gateway has closed every session (bounded: a session that never closes fails). */
async function sessionsClosed(count: () => number): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (count() > 0) {
    if (performance.now() > deadline)
      throw new Error(`${count()} sessions still open 10 s after the client left`);
    await nextTurn();
  }
}

/**
 * The gateway in this process on the fs driver in a temp folder, plain FTP (TLS is the protocol
 * tests' business), real TCP. Each input is one control connection running a script; the check
 * waits until the gateway has closed it, so an error in its teardown lands on that input.
 * `only` narrows the scripts (see fuzz.int.test.ts for the known RETR crash).
 */
export async function ftpSurface(
  options: { only?: (script: Script) => boolean } = {},
): Promise<FuzzSurface<Script> & AsyncDisposable> {
  const dir = await tempDir("ftps-fuzz-store-");
  const driver = await openStorage(`file://${dir.path}`);
  const payload = Buffer.alloc(256 * 1024, "fuzz payload ");
  const small = "small and known\n";
  await driver.put("big.bin", Buffer.alloc(2 << 20, "0123456789abcdef"));
  await driver.put("small.txt", Buffer.from(small));
  // the good request's file: no input names it
  await driver.put("keep/known.txt", Buffer.from(small));
  await driver.put("dir/inner.txt", Buffer.from("inner"));
  const gateway = await startGateway({
    driver,
    env: {
      FTP_TLS_REQUIRED: "false",
      FTP_LOGIN_MAX_FAILURES: "1000000000",
      FTP_PASSIVE_TIMEOUT_SECONDS: "5",
      FTP_DATA_TIMEOUT_SECONDS: "5",
      FTP_MAX_LINE_BYTES: String(maxLineBytes),
    },
  });
  const check = async (script: Script) => {
    await SessionDriver.run(gateway.port, script, payload);
    await sessionsClosed(gateway.app.sessionCount);
  };
  const good = async () => {
    await using ftp = await RawFtp.connect(gateway.port, { ca: "" });
    const replies = [await ftp.read(), await ftp.send("USER u"), await ftp.send("PASS p")];
    const port = await ftp.epsvPort();
    const data = await ftp.openData(port, { plain: true });
    const started = await ftp.send("RETR keep/known.txt");
    const body = (await readAllData(data)).toString();
    const done = await ftp.read();
    const codes = [...replies, started, done].map((r) => r.code).join(",");
    if (codes !== "220,331,230,150,226" || body !== small)
      throw new Error(`a good RETR answered ${codes} with ${JSON.stringify(body.slice(0, 40))}`);
    await ftp.send("QUIT");
  };
  return {
    name: "fuzz-ftp",
    inputs: options.only ? ftpInputs.filter(options.only) : ftpInputs,
    check,
    good,
    async [Symbol.asyncDispose]() {
      await gateway[Symbol.asyncDispose]();
      await driver.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

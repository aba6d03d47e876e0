import fc from "fast-check";

/**
 * One input surface of a server under fuzzing: an arbitrary of hostile inputs, an oracle that sends
 * one and throws when the answer breaks the protocol's rules, and a known-good request that must
 * still succeed between and after them. Each app describes its surfaces in a few lines with these;
 * `fuzzSurface` (tests) and `benchFuzz` (benches) drive them.
 */
export interface FuzzSurface<T> {
  /** `fuzz-<surface>`: names the bench line and the failures. */
  readonly name: string;
  readonly inputs: fc.Arbitrary<T>;
  /** Sends one input; throws with the reason when the answer is not a clear error in the protocol's terms. */
  readonly check: (input: T) => Promise<void>;
  /** Sends a known-good request; throws unless it is answered as it should be. */
  readonly good: () => Promise<void>;
}

export interface FuzzOptions {
  readonly runs: number;
  readonly seed: number;
  /** A good request after every this many inputs (default 50). */
  readonly goodEvery?: number;
}

/** Errors nobody handled (`uncaughtException`, `unhandledRejection`) while a run was going on. */
function watchCrashes(): { take(): unknown[]; [Symbol.dispose](): void } {
  let seen: unknown[] = [];
  const record = (error: unknown) => void seen.push(error);
  process.on("uncaughtException", record);
  process.on("unhandledRejection", record);
  return {
    take() {
      const taken = seen;
      seen = [];
      return taken;
    },
    [Symbol.dispose]() {
      process.off("uncaughtException", record);
      process.off("unhandledRejection", record);
    },
  };
}

function crashError(errors: unknown[]): Error {
  const first = errors[0];
  return new Error(
    `unhandled error while serving: ${first instanceof Error ? (first.stack ?? first.message) : String(first)}`,
  );
}

/** A guard against a server that never answers: the input fails, the run goes on. */
const inputDeadlineMs = 60_000;

async function answeredWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** One input through the oracle, then any crash it caused, then (every `goodEvery`) a good request. */
function runner<T>(surface: FuzzSurface<T>, goodEvery: number, crashes: ReturnType<typeof watchCrashes>) {
  let sinceGood = 0;
  return async (input: T) => {
    await answeredWithin(surface.check(input), inputDeadlineMs);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const crashed = crashes.take();
    if (crashed.length > 0) throw crashError(crashed);
    if (++sinceGood >= goodEvery) {
      sinceGood = 0;
      await surface.good().catch((cause: unknown) => {
        throw new Error(`the good request failed after this input: ${String(cause)}`, { cause });
      });
    }
  };
}

/**
 * The test-suite run: `runs` inputs from a fixed seed through `fc.assert`, so a failure is shrunk
 * and reported with the seed and path that replay it; then the good request once more.
 */
export async function fuzzSurface<T>(surface: FuzzSurface<T>, options: FuzzOptions): Promise<void> {
  using crashes = watchCrashes();
  await surface.good();
  await fc.assert(fc.asyncProperty(surface.inputs, runner(surface, options.goodEvery ?? 50, crashes)), {
    seed: options.seed,
    numRuns: options.runs,
  });
  await surface.good();
}

export interface FuzzFailure {
  /** Replays the input: `fc.assert(property, { seed, path })`, or `fuzzSurface` with this seed. */
  readonly path: string;
  readonly input: string;
  readonly reason: string;
}

export interface FuzzReport {
  readonly name: string;
  readonly seed: number;
  readonly inputs: number;
  /** The first ten failures, and the first of each further kind (at most 30). */
  readonly failures: readonly FuzzFailure[];
  readonly failureCount: number;
  /** Failures by the first line of their reason (numbers and ports blanked), most frequent first. */
  readonly failureKinds: readonly (readonly [kind: string, count: number])[];
  readonly msPerInput: number;
  /** Growth over the run after a full GC (`--expose-gc`), in MiB. */
  readonly heapGrowthMiB: number;
  readonly rssGrowthMiB: number;
}

async function settledMemory(): Promise<{ heap: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed / 2 ** 20, rss: usage.rss / 2 ** 20 };
}

function describeInput(input: unknown): string {
  const text = fc.stringify(input);
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

/**
 * The bench run: every input is tried (no stop at the first failure), failures are counted and the
 * first few kept with the path that replays them; memory is measured around the run.
 */
export async function runFuzzBench<T>(surface: FuzzSurface<T>, options: FuzzOptions): Promise<FuzzReport> {
  using crashes = watchCrashes();
  const failures: FuzzFailure[] = [];
  const kinds = new Map<string, number>();
  let failureCount = 0;
  let index = 0;
  const one = runner(surface, options.goodEvery ?? 50, crashes);
  await surface.good();
  const before = await settledMemory();
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(surface.inputs, async (input) => {
      const path = String(index++);
      try {
        await one(input);
      } catch (error) {
        failureCount++;
        const kind = String(error).split("\n")[0]!.replace(/\d+/g, "N").slice(0, 160);
        const firstOfKind = !kinds.has(kind);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        if (failures.length < 10 || (firstOfKind && failures.length < 30))
          failures.push({ path, input: describeInput(input), reason: String(error).slice(0, 500) });
      }
      if (index % 1000 === 0)
        process.stderr.write(`${surface.name}: ${index} inputs, ${failureCount} failures\n`);
    }),
    { seed: options.seed, numRuns: options.runs },
  );
  const msPerInput = (performance.now() - started) / index;
  const after = await settledMemory();
  await surface.good().catch((error: unknown) => {
    failureCount++;
    failures.push({ path: "after", input: "(the good request after the run)", reason: String(error) });
  });
  return {
    name: surface.name,
    seed: options.seed,
    inputs: index,
    failures,
    failureCount,
    failureKinds: [...kinds].sort((a, b) => b[1] - a[1]),
    msPerInput,
    heapGrowthMiB: after.heap - before.heap,
    rssGrowthMiB: after.rss - before.rss,
  };
}

/** Milliseconds per good request, replayed `times` times: the bench's reference. */
export async function timeGood(surface: FuzzSurface<unknown>, times: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < times; i++) await surface.good();
  return (performance.now() - started) / times;
}

/**
 * `pnpm bench fuzz-<surface>`: runs `runs` inputs (argv[2] overrides; seed from argv[3], else the
 * clock), checks memory growth against `heapBoundMiB`, and ends with
 * `fuzz-<surface>: <n> failures (<inputs> inputs; <ms> ms/input, <ratio>x a known-good request)`.
 * Sets a non-zero exit code on any failure.
 */
export async function benchFuzz<T>(
  surface: FuzzSurface<T>,
  options: { runs?: number; heapBoundMiB?: number; rssBoundMiB?: number; goodEvery?: number } = {},
): Promise<FuzzReport> {
  const runs = Number(process.argv[2] ?? options.runs ?? 10_000);
  const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
  const heapBound = options.heapBoundMiB ?? 64;
  const rssBound = options.rssBoundMiB ?? 512;
  process.stderr.write(`${surface.name}: ${runs} inputs, seed ${seed}\n`);
  const report = await runFuzzBench(surface, {
    runs,
    seed,
    ...(options.goodEvery ? { goodEvery: options.goodEvery } : {}),
  });
  const reference = await timeGood(surface as FuzzSurface<unknown>, Math.min(runs, 1000));
  let failureCount = report.failureCount;
  const memoryLine = `heap ${signed(report.heapGrowthMiB)} MiB (bound ${heapBound}), rss ${signed(report.rssGrowthMiB)} MiB (bound ${rssBound})`;
  if (report.heapGrowthMiB > heapBound || report.rssGrowthMiB > rssBound) failureCount++;
  const out = process.stdout;
  out.write(`inputs tried: ${report.inputs}, seed ${seed}\n`);
  out.write(`failures: ${failureCount}\n`);
  out.write(`memory over the run: ${memoryLine}\n`);
  for (const [kind, count] of report.failureKinds) out.write(`  ${count} x ${kind}\n`);
  for (const failure of report.failures)
    out.write(`  failure at path ${failure.path}: ${failure.reason}\n    input: ${failure.input}\n`);
  if (report.failures.length > 0)
    out.write(`replay one: pnpm bench ${surface.name} ${runs} ${seed} (or fc.assert with { seed, path })\n`);
  out.write(
    `${surface.name}: ${failureCount} failures (${report.inputs} inputs; ${report.msPerInput.toFixed(3)} ms/input, ${(report.msPerInput / reference).toFixed(2)}x a known-good request)\n`,
  );
  if (failureCount > 0) process.exitCode = 1;
  return { ...report, failureCount };
}

const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)}`;

import type { Writable } from "node:stream";
import cliProgress from "cli-progress";

export interface ProgressBar {
  update(transferred: number, total: number): void;
  done(): void;
}

export interface Progress {
  bar(label: string, total: number): ProgressBar;
  /**
   * Prints a line without breaking the bars drawn on the terminal: above them while any is
   * running. False when the caller should write it itself (no bar running, or a stdout line and
   * stdout is not the terminal).
   */
  above(text: string, stream: "stdout" | "stderr"): boolean;
  stop(): void;
}

const silentBar: ProgressBar = { update() {}, done() {} };
export const silentProgress: Progress = { bar: () => silentBar, above: () => false, stop() {} };

type TtyStream = Writable & { isTTY?: boolean };

const mib = (bytes: number) => (bytes / 1048576).toFixed(1);

/**
 * Byte progress bars on a terminal (stderr) with rate and ETA; nothing at all when it is not a TTY.
 * The bars live while any is running: once the last is done they are drawn a final time and what
 * is printed next goes below them.
 */
export function createProgress(
  terminal: { stdout: TtyStream; stderr: TtyStream },
  enabled: boolean,
  clock: () => number = Date.now,
): Progress {
  if (!enabled || terminal.stderr.isTTY !== true) return silentProgress;
  let multi: cliProgress.MultiBar | undefined;
  let running = 0;
  const start = () =>
    new cliProgress.MultiBar(
      {
        stream: terminal.stderr as NodeJS.WritableStream,
        clearOnComplete: false,
        hideCursor: true,
        // A bar is redrawn only when its text changed, unless forced: lines printed above would
        // otherwise push unchanged bars down to rows that show nothing.
        forceRedraw: true,
        format: "{label} [{bar}] {percentage}% | {done}/{size} MiB | {rate} MiB/s | ETA {eta_formatted}",
      },
      cliProgress.Presets.shades_classic,
    );
  const stop = () => {
    if (!multi) return;
    multi.update(); // flushes lines handed to `above` since the last redraw
    multi.stop();
    multi = undefined;
    running = 0;
  };
  return {
    bar(label, total) {
      multi ??= start();
      running++;
      const startedAt = clock();
      let first: number | undefined;
      const payload = (transferred: number, size: number) => {
        first ??= transferred;
        const seconds = (clock() - startedAt) / 1000;
        const rate = seconds > 0 ? (transferred - first) / 1048576 / seconds : 0;
        return { label, done: mib(transferred), size: mib(size), rate: rate.toFixed(1) };
      };
      const bar = multi.create(Math.max(total, 1), 0, payload(0, total));
      let finished = false;
      return {
        update(transferred, size) {
          if (finished) return;
          bar.setTotal(Math.max(size, 1));
          bar.update(transferred, payload(transferred, size));
        },
        done() {
          if (finished) return;
          finished = true;
          // Not bar.stop(): a stopped bar is drawn blank by the multibar's last redraw.
          if (--running === 0) stop();
        },
      };
    },
    above(text, stream) {
      if (!multi || (stream === "stdout" && terminal.stdout.isTTY !== true)) return false;
      // Erase the row first: with several lines at once, only the first row is cleared for us.
      multi.log(`\u001b[2K${text}\n`);
      return true;
    },
    stop,
  };
}

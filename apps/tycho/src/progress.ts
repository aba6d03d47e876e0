import type { Writable } from "node:stream";
import cliProgress from "cli-progress";

export interface ProgressBar {
  update(transferred: number, total: number): void;
  done(): void;
}

export interface Progress {
  bar(label: string, total: number): ProgressBar;
  stop(): void;
}

const silentBar: ProgressBar = { update() {}, done() {} };
export const silentProgress: Progress = { bar: () => silentBar, stop() {} };

/** Byte progress bars on a terminal (stderr); nothing at all when it is not a TTY. */
export function createProgress(stream: Writable & { isTTY?: boolean }, enabled: boolean): Progress {
  if (!enabled || stream.isTTY !== true) return silentProgress;
  const multi = new cliProgress.MultiBar(
    {
      stream: stream as NodeJS.WritableStream,
      clearOnComplete: false,
      hideCursor: true,
      format: "{label} [{bar}] {percentage}% | {done}/{size} MiB",
    },
    cliProgress.Presets.shades_classic,
  );
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  return {
    bar(label, total) {
      const bar = multi.create(Math.max(total, 1), 0, { label, done: mib(0), size: mib(total) });
      return {
        update(transferred, size) {
          bar.setTotal(Math.max(size, 1));
          bar.update(transferred, { label, done: mib(transferred), size: mib(size) });
        },
        done() {
          bar.stop();
        },
      };
    },
    stop() {
      multi.stop();
    },
  };
}

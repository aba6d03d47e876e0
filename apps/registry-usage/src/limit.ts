/**
 * Runs at most `concurrency` tasks at once; the others wait in call order.
 *
 * @example
 * const limit = createLimiter(8);
 * await Promise.all(urls.map((url) => limit(() => fetch(url))));
 */
export function createLimiter(concurrency: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function limit<T>(task: () => Promise<T>): Promise<T> {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

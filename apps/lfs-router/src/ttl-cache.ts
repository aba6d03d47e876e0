/** A bounded in-memory map whose entries lapse at a given time; the oldest entry goes first when full. */
export interface TtlCache<V> {
  get(key: string): V | undefined;
  /** Keeps `value` until `until` (ms since the epoch); a time already past stores nothing. */
  set(key: string, value: V, until: number): void;
}

export function createTtlCache<V>(maxEntries: number, now: () => number): TtlCache<V> {
  const entries = new Map<string, { value: V; until: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.until > now()) return entry.value;
      entries.delete(key);
      return undefined;
    },
    set(key, value, until) {
      if (maxEntries <= 0 || until <= now()) return;
      entries.delete(key);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(key, { value, until });
    },
  };
}

/** Options of {@link TtlCache}. */
export interface TtlCacheOptions {
  /** How long an entry is served, in milliseconds; 0 keeps nothing. */
  ttlMs: number;
  /** Most entries kept; the least recently written go first. */
  maxEntries: number;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/**
 * A bounded map whose entries expire: `get` never returns an entry older than `ttlMs`, and at most
 * `maxEntries` are held (writing a new one drops the oldest). Expired entries are dropped as they
 * are met and from the oldest end on every write, so memory follows the live entries.
 */
export class TtlCache<V> {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(options: TtlCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries));
    this.now = options.now ?? Date.now;
  }

  /** Number of entries held (some may have expired but not been dropped yet). */
  get size(): number {
    return this.entries.size;
  }

  /** The live value for `key`, or undefined. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` for `key` for `ttlMs` (a no-op when `ttlMs` is 0). */
  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    const now = this.now();
    this.entries.delete(key); // re-insert at the young end
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && e.expiresAt > now) break;
      this.entries.delete(k);
    }
  }
}

/**
 * Collects the bytes of a stream from absolute offset `start`, at most `limit` of them, out of
 * chunks that arrive in order (the same bytes may be offered twice: overlapping chunks are fine).
 */
export class ByteTap {
  readonly start: number;
  readonly limit: number;
  #parts: Buffer[] = [];
  #length = 0;

  constructor(start: number, limit: number) {
    this.start = start;
    this.limit = limit;
  }

  /** How many bytes were collected so far. */
  get length(): number {
    return this.#length;
  }

  /** Whether `limit` bytes were collected. */
  get full(): boolean {
    return this.#length >= this.limit;
  }

  /** Takes what it needs from `chunk`, whose first byte is at absolute offset `base`. */
  feed(chunk: Buffer, base: number): void {
    if (this.full) return;
    const from = this.start + this.#length - base;
    if (from < 0 || from >= chunk.length) return;
    const n = Math.min(chunk.length - from, this.limit - this.#length);
    this.#parts.push(Buffer.from(chunk.subarray(from, from + n)));
    this.#length += n;
  }

  /** The bytes collected so far, in one buffer. */
  bytes(): Buffer {
    if (this.#parts.length !== 1) this.#parts = [Buffer.concat(this.#parts)];
    return this.#parts[0] as Buffer;
  }
}

/**
 * Calls `onMatch` with the absolute offset of every occurrence of `pattern` that ends inside
 * `chunk` (first byte at absolute `base`), including ones that start in `carry` (the bytes just
 * before `chunk`, at least `pattern.length - 1` of them when available).
 */
export function findMatches(pattern: Buffer, carry: Buffer, chunk: Buffer, base: number, onMatch: (offset: number) => void): void {
  if (carry.length > 0) {
    const edge = Buffer.concat([carry, chunk.subarray(0, pattern.length - 1)]);
    const edgeBase = base - carry.length;
    for (let i = edge.indexOf(pattern); i !== -1; i = edge.indexOf(pattern, i + 1)) {
      if (i + pattern.length > carry.length) onMatch(edgeBase + i);
    }
  }
  for (let i = chunk.indexOf(pattern); i !== -1; i = chunk.indexOf(pattern, i + 1)) onMatch(base + i);
}

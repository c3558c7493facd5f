import type { RangeEvent } from '../ecosystems/vulnerability-record.ts';

/** One affected interval: from `lo` (inclusive; null = the first version) to `hi` (null = no end). */
interface Interval {
  lo: string | null;
  hi: string | null;
  hiInclusive: boolean;
}

type Compare = (a: string, b: string) => number;

/** The intervals one OSV range affects: its events sorted by version, `introduced` opening, `fixed`/`limit` closing before, `last_affected` closing at. */
function intervals(events: readonly RangeEvent[], compare: Compare): Interval[] {
  const order = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 } as const;
  const list = events.map((e) => {
    const [kind, v] = Object.entries(e)[0]! as [keyof typeof order, string];
    return { kind, v, zero: kind === 'introduced' && v === '0' };
  });
  list.sort((a, b) => (a.zero || b.zero ? (a.zero === b.zero ? 0 : a.zero ? -1 : 1) : compare(a.v, b.v) || order[a.kind] - order[b.kind]));
  const out: Interval[] = [];
  let open: string | null | undefined; // undefined: closed; null: open from the first version
  for (const e of list) {
    if (e.kind === 'introduced') {
      if (open === undefined) open = e.zero ? null : e.v;
    } else if (open !== undefined) {
      out.push({ lo: open, hi: e.v, hiInclusive: e.kind === 'last_affected' });
      open = undefined;
    }
  }
  if (open !== undefined) out.push({ lo: open, hi: null, hiInclusive: false });
  return out;
}

/**
 * The union of several OSV ranges of one package as one event list whose intervals do not
 * overlap, so a single record (walked as `isAffected` walks events) affects exactly the versions
 * any of the ranges affects: `[{introduced: "2.1.0"}]` and `[{introduced: "3.1.1"}, {fixed: "3.5.3"}]`
 * become `[{introduced: "2.1.0"}]`. `compare` is the ecosystem's version comparison.
 */
export function unionRanges(ranges: ReadonlyArray<readonly RangeEvent[]>, compare: Compare): RangeEvent[] {
  const all = ranges.flatMap((r) => intervals(r, compare));
  const loCmp = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : compare(a, b));
  all.sort((a, b) => loCmp(a.lo, b.lo));
  const merged: Interval[] = [];
  for (const iv of all) {
    const last = merged[merged.length - 1];
    if (last !== undefined) {
      // Overlapping or touching: [a, b) and [b, c) are one interval; so are [a, b] and (b…).
      const touches = last.hi === null || iv.lo === null || compare(iv.lo, last.hi) < 0 || (compare(iv.lo, last.hi) === 0);
      if (touches) {
        if (last.hi !== null) {
          if (iv.hi === null) {
            last.hi = null;
            last.hiInclusive = false;
          } else {
            const c = compare(iv.hi, last.hi);
            if (c > 0 || (c === 0 && iv.hiInclusive)) {
              last.hi = iv.hi;
              last.hiInclusive = iv.hiInclusive;
            }
          }
        }
        continue;
      }
    }
    merged.push({ ...iv });
  }
  const events: RangeEvent[] = [];
  for (const iv of merged) {
    events.push({ introduced: iv.lo ?? '0' });
    if (iv.hi !== null) events.push(iv.hiInclusive ? { last_affected: iv.hi } : { fixed: iv.hi });
  }
  return events;
}

import { FeedParseError } from '../../feeds/feed-parse-error.ts';

/** One line of Red Hat's `changes.csv` / `deletions.csv`: a document path and when it changed. */
export interface VexIndexEntry {
  /** `2024/cve-2024-1234.json` */
  path: string;
  /** Milliseconds since the epoch. */
  time: number;
}

const PATH = /^\d{4}\/[A-Za-z0-9._-]+\.json$/;

/** Whether `path` is a VEX document path as Red Hat lays them out (`<year>/<name>.json`). */
export function isVexPath(path: string): boolean {
  return PATH.test(path);
}

/**
 * Parses `changes.csv` or `deletions.csv` (`"2024/cve-2024-1234.json","2024-07-29T12:00:00+00:00"`
 * per line). A path that is not `<year>/<name>.json` or a time that is not a date throws: these
 * paths become URLs and file names. When a path appears more than once the latest time is kept.
 */
export function parseVexIndexCsv(text: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^"?([^",]+)"?\s*,\s*"?([^",]+)"?$/.exec(line);
    const time = m ? Date.parse(m[2]!) : Number.NaN;
    if (!m || !isVexPath(m[1]!) || !Number.isFinite(time)) throw new FeedParseError(`${label} line ${i + 1} is not "<year>/<file>.json","<time>": ${JSON.stringify(line.slice(0, 200))}`);
    const previous = out.get(m[1]!);
    if (previous === undefined || time > previous) out.set(m[1]!, time);
  }
  return out;
}

import { readFileSync } from 'node:fs';
import { fixture, HAVE_FIXTURES } from '../helpers/fixtures.ts';

/** One row of a version-vector TSV, by column name, with `\t`, `\n`, `\uXXXX` escapes undone. */
export type Row = Record<string, string>;

function unescape(cell: string): string {
  return cell.replace(/\\(t|n|u[0-9a-fA-F]{4})/g, (_m, e: string) => (e === 't' ? '\t' : e === 'n' ? '\n' : String.fromCharCode(Number.parseInt(e.slice(1), 16))));
}

/**
 * The rows of `versions-sample/<name>` from the shared fixtures (read in place), or an empty list
 * when the fixtures folder is absent (tests then skip with NO_FIXTURES in their title).
 */
export function readVersionTsv(name: string): Row[] {
  if (!HAVE_FIXTURES) return [];
  const lines = readFileSync(fixture('versions-sample', name), 'utf8').split('\n').filter((line) => line !== '');
  const header = lines[0]!.split('\t');
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    const row: Row = {};
    header.forEach((column, i) => (row[column] = unescape(cells[i] ?? '')));
    return row;
  });
}

/** `-1 | 0 | 1` from a TSV `expected` cell. */
export function expectedSign(cell: string): -1 | 0 | 1 {
  const n = Number(cell);
  if (n !== -1 && n !== 0 && n !== 1) throw new Error(`bad expected cell ${JSON.stringify(cell)}`);
  return n;
}

/** Prints a failed row compactly in an assertion message. */
export function describeRow(row: Row): string {
  return JSON.stringify(row);
}

/** The reverse of a comparison result (`-0` made `0`). */
export function flip(result: -1 | 0 | 1): -1 | 0 | 1 {
  return result === 0 ? 0 : result === 1 ? -1 : 1;
}

/** The sign of a difference as a comparison result. */
export function signOf(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UNCHANGED, type FetchContext, type Fetched, type Updater } from '../../../src/ecosystems/updater.ts';
import type { EnrichmentRecord, VulnerabilityRecord } from '../../../src/ecosystems/vulnerability-record.ts';
import { UndiciFeedHttp } from '../../../src/feeds/undici-feed-http.ts';

type Teardown = { teardown(fn: () => Promise<void>): void };

/** Drains an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A temporary directory removed when the test ends. */
export async function tempDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-xml-feed-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `content` to `name` in a fresh temporary directory and returns its path. */
export async function tempFile(t: Teardown, name: string, content: string | Buffer): Promise<string> {
  const file = path.join(await tempDir(t), name);
  await writeFile(file, content);
  return file;
}

/** The vulnerability records an updater parses out of `files` (as if a fetch had spooled them). */
export async function parseFiles(updater: Updater, files: string[]): Promise<VulnerabilityRecord[]> {
  const records = await collect(updater.parse({ fingerprint: 'test', validators: {}, files }));
  return records.filter((r): r is VulnerabilityRecord => !('kind' in r)) as VulnerabilityRecord[];
}

/** Narrows a fetch result, failing loudly on UNCHANGED. */
export function fetched(result: Fetched | typeof UNCHANGED): Fetched {
  if (result === UNCHANGED) throw new Error('expected new data, got UNCHANGED');
  return result;
}

/**
 * Runs `updater.fetch` as the feed runner would: a real {@link UndiciFeedHttp} limited to
 * `allowed` (default `url`), a fresh spool directory, the previous run's fingerprint and validators.
 */
export async function runFetch(t: Teardown, updater: Updater, url: string, previous: Fetched | null = null, allowed: readonly string[] = [url]): Promise<Fetched | typeof UNCHANGED> {
  const http = new UndiciFeedHttp({ allowedBases: allowed, maxBytes: 64 * 1024 * 1024, bodyTimeoutMs: 10_000, headersTimeoutMs: 10_000 });
  try {
    const context: FetchContext = {
      url,
      http,
      spoolDir: await tempDir(t),
      previousFingerprint: previous?.fingerprint ?? null,
      validators: previous?.validators ?? {},
    };
    return await updater.fetch(context);
  } finally {
    await http.close();
  }
}

/** The only record matching `match`, failing when there are none or several. */
export function one(records: readonly VulnerabilityRecord[], match: Partial<VulnerabilityRecord>): VulnerabilityRecord {
  const found = records.filter((r) => Object.entries(match).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v));
  if (found.length !== 1) throw new Error(`expected one record like ${JSON.stringify(match)}, found ${found.length}`);
  return found[0]!;
}

/** Keeps EnrichmentRecord out of a union for type narrowing in tests. */
export type AnyRecord = VulnerabilityRecord | EnrichmentRecord;

/** Records the store would fold into one row (same advisory, package and scope), as `identity → count`. */
export function duplicateKeys(records: readonly VulnerabilityRecord[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const key = [r.name, r.ecosystem, r.distribution, r.repository, r.module, r.packageName, r.packageKind, r.arch].join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].filter(([, n]) => n > 1));
}

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UndiciFeedHttp } from '../../../src/feeds/undici-feed-http.ts';
import { UNCHANGED, type FetchContext, type Fetched, type Updater } from '../../../src/ecosystems/updater.ts';
import type { EnrichmentRecord, VulnerabilityRecord } from '../../../src/ecosystems/vulnerability-record.ts';

/** Drains an async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A spool directory for one fetch, removed when the test ends. */
export async function spoolDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-feed-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs `updater.fetch` the way the feed runner does: a real {@link UndiciFeedHttp} limited to
 * `allowedBases` (default: `url` itself), a fresh spool directory, and the previous run's
 * fingerprint and validators when given.
 */
export async function runFetch(
  t: { teardown(fn: () => Promise<void>): void },
  updater: Updater,
  url: string,
  previous: Fetched | null = null,
  allowedBases: readonly string[] = [url],
): Promise<Fetched | typeof UNCHANGED> {
  const http = new UndiciFeedHttp({ allowedBases, maxBytes: 64 * 1024 * 1024, bodyTimeoutMs: 10_000, headersTimeoutMs: 10_000 });
  try {
    const context: FetchContext = {
      url,
      http,
      spoolDir: await spoolDir(t),
      previousFingerprint: previous?.fingerprint ?? null,
      validators: previous?.validators ?? {},
    };
    return await updater.fetch(context);
  } finally {
    await http.close();
  }
}

/** Narrows a fetch result to {@link Fetched}, failing loudly otherwise. */
export function fetched(result: Fetched | typeof UNCHANGED): Fetched {
  if (result === UNCHANGED) throw new Error('expected new data, got UNCHANGED');
  return result;
}

/** The vulnerability records of an updater's output (enrichment records dropped). */
export function vulnerabilities(records: ReadonlyArray<VulnerabilityRecord | EnrichmentRecord>): VulnerabilityRecord[] {
  return records.filter((r): r is VulnerabilityRecord => !('kind' in r));
}

/** The enrichment records of an updater's output. */
export function enrichments(records: ReadonlyArray<VulnerabilityRecord | EnrichmentRecord>): EnrichmentRecord[] {
  return records.filter((r): r is EnrichmentRecord => 'kind' in r);
}

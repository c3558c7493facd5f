import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { z } from 'zod';
import type { EnrichmentRecord, VulnerabilityRecord } from '../ecosystems/vulnerability-record.ts';
import type { VulnerabilityStore } from '../store/vulnerability-store.ts';

const FORMAT = 'lookout-feed-bundle';
const VERSION = 1;
/** Longest line accepted when importing (one record). */
const MAX_LINE = 16 * 1024 * 1024;

/** Thrown for a file that is not a bundle, or a damaged one; nothing is imported from a section it breaks. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

const header = z.strictObject({ format: z.literal(FORMAT), version: z.literal(VERSION), exportedAt: z.string() });
const section = z.strictObject({ section: z.string().min(1).max(100), fingerprint: z.string().nullable() });

export interface BundleSectionResult {
  updater: string;
  state: 'imported' | 'unchanged';
  records: number;
}

/**
 * Writes every updater's latest data as one gzip-compressed JSON-lines bundle: a header line, then per
 * updater a section line (name, fingerprint) followed by its records. Streams both ways: neither
 * export nor import holds a feed in memory.
 */
export async function exportBundle(store: VulnerabilityStore, file: string): Promise<{ updaters: string[]; records: number }> {
  const runs = (await store.latestRuns()).filter((r) => r.state === 'changed' || r.state === 'unchanged');
  const out = new PassThrough();
  const writing = pipeline(out, createGzip(), createWriteStream(file));
  let records = 0;
  const write = async (value: unknown) => {
    if (!out.write(`${JSON.stringify(value)}\n`)) await new Promise((r) => out.once('drain', r));
  };
  await write({ format: FORMAT, version: VERSION, exportedAt: new Date().toISOString() });
  const updaters: string[] = [];
  for (const run of runs) {
    const last = await store.lastSuccessfulRun(run.updater);
    await write({ section: run.updater, fingerprint: last?.fingerprint ?? null });
    updaters.push(run.updater);
    for await (const r of store.records(run.updater)) {
      await write({ v: r });
      records += 1;
    }
    for await (const e of store.enrichments(run.updater)) {
      await write({ e });
      records += 1;
    }
  }
  out.end();
  await writing;
  return { updaters, records };
}

/**
 * Loads a bundle: each section replaces that updater's data like a feed run would (same diff,
 * same report invalidation), unless the stored data already has the section's fingerprint — so
 * importing the same bundle twice changes nothing.
 */
export async function importBundle(store: VulnerabilityStore, file: string, progress?: (r: BundleSectionResult) => void): Promise<BundleSectionResult[]> {
  const input = createReadStream(file).pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  let lineNo = 0;
  const next = async (): Promise<unknown | undefined> => {
    let result: IteratorResult<string>;
    try {
      result = await lines.next();
    } catch (err) {
      throw new BundleError(`cannot read the bundle: ${(err as Error).message}`);
    }
    if (result.done) return undefined;
    lineNo += 1;
    if (result.value.length > MAX_LINE) throw new BundleError(`line ${lineNo} is longer than ${MAX_LINE} bytes`);
    try {
      return JSON.parse(result.value) as unknown;
    } catch {
      throw new BundleError(`line ${lineNo} is not JSON`);
    }
  };
  const first = header.safeParse(await next());
  if (!first.success) throw new BundleError('not a Lookout feed bundle (bad header line)');

  const results: BundleSectionResult[] = [];
  let pending = await next();
  while (pending !== undefined) {
    const parsed = section.safeParse(pending);
    if (!parsed.success) throw new BundleError(`line ${lineNo}: expected a section line`);
    const { section: updater, fingerprint } = parsed.data;
    let count = 0;
    async function* body(): AsyncIterable<VulnerabilityRecord | EnrichmentRecord> {
      for (;;) {
        pending = await next();
        if (pending === undefined || (typeof pending === 'object' && pending !== null && 'section' in pending)) return;
        const item = pending as { v?: VulnerabilityRecord; e?: EnrichmentRecord };
        if (item.v) {
          if (item.v.updater !== updater) throw new BundleError(`line ${lineNo}: a ${item.v.updater} record in the ${updater} section`);
          count += 1;
          yield item.v;
        } else if (item.e) {
          count += 1;
          yield item.e;
        } else {
          throw new BundleError(`line ${lineNo}: neither a record nor a section`);
        }
      }
    }
    const last = await store.lastSuccessfulRun(updater);
    if (fingerprint !== null && last?.fingerprint === fingerprint) {
      for await (const _ of body()) void _; // skip the section
      const result = { updater, state: 'unchanged' as const, records: count };
      results.push(result);
      progress?.(result);
      continue;
    }
    const runId = await store.startRun(updater);
    try {
      const counts = await store.applyRun(runId, updater, body());
      await store.finishRun(runId, { state: 'changed', fingerprint, validators: {}, counts });
    } catch (err) {
      await store.finishRun(runId, { state: 'failed', error: (err as Error).message });
      throw err;
    }
    const result = { updater, state: 'imported' as const, records: count };
    results.push(result);
    progress?.(result);
  }
  return results;
}

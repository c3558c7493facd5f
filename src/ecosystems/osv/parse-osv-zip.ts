import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { VulnerabilityRecord } from '../vulnerability-record.ts';
import type { OsvEcosystem } from './osv-ecosystems.ts';
import { osvToRecords } from './osv-to-records.ts';
import { zipEntries } from './zip-entries.ts';

/** Options of {@link parseOsvZip}, with its limits. */
export interface OsvZipOptions {
  ecosystem: OsvEcosystem;
  now: Date;
  /** Largest advisory (one zip entry) read. Default 8 MiB. */
  maxEntryBytes?: number;
  /** Most advisories in one archive. Default 2,000,000. */
  maxEntries?: number;
}

/**
 * Parses an OSV bulk export (`<Ecosystem>/all.zip`: one JSON advisory per entry), one entry at a
 * time, through {@link osvToRecords}. An entry that is not JSON throws {@link FeedParseError}
 * naming it; entries not ending in `.json` are ignored.
 */
export async function* parseOsvZip(file: string, options: OsvZipOptions): AsyncGenerator<VulnerabilityRecord> {
  const what = `OSV ${options.ecosystem.osv} archive`;
  for await (const { name, data } of zipEntries(file, {
    what,
    maxEntryBytes: options.maxEntryBytes ?? 8 * 1024 * 1024,
    maxEntries: options.maxEntries ?? 2_000_000,
  })) {
    if (!name.endsWith('.json')) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw new FeedParseError(`${what}: entry ${name} is not JSON (${(err as Error).message})`, { cause: err });
    }
    yield* osvToRecords(doc, { ecosystem: options.ecosystem, now: options.now });
  }
}

import { createReadStream } from 'node:fs';
import { fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { Updater } from '../updater.ts';
import { parseKev } from './parse-kev.ts';

/** CISA's Known Exploited Vulnerabilities catalog (JSON). */
export const KEV_URL = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';

/** Options of {@link createKevUpdater}. */
export interface KevUpdaterOptions {
  /** The catalog URL (default {@link KEV_URL}). */
  url?: string;
}

/** The `kev` enrichment updater: a conditional GET of the catalog, then {@link parseKev}. */
export function createKevUpdater(options: KevUpdaterOptions = {}): Updater {
  return {
    name: 'kev',
    version: '1',
    defaultUrl: options.url ?? KEV_URL,
    fetch: (context) => fetchFeedFiles(context, [{ url: context.url, fileName: 'kev.json' }]),
    async *parse(fetched) {
      const [file] = fetched.files;
      if (file === undefined || fetched.files.length !== 1) throw new FeedParseError(`kev: expected one file, got ${fetched.files.length}`);
      yield* parseKev(createReadStream(file, { highWaterMark: 64 * 1024 }));
    },
  };
}

/** The `kev` updater with default options. */
export const kevUpdater: Updater = createKevUpdater();

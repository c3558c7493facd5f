import { fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { Updater } from '../updater.ts';
import { epssInput, parseEpss } from './parse-epss.ts';

/** The current EPSS scores (gzip CSV). */
export const EPSS_URL = 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz';

/** Options of {@link createEpssUpdater}. */
export interface EpssUpdaterOptions {
  /** The scores file URL (gzip or plain CSV; default {@link EPSS_URL}). */
  url?: string;
}

/**
 * The `epss` enrichment updater: a conditional GET of the scores file, then a streaming parse of
 * the (gunzipped) CSV into `epss` enrichments (see {@link parseEpss}).
 */
export function createEpssUpdater(options: EpssUpdaterOptions = {}): Updater {
  return {
    name: 'epss',
    version: '1',
    defaultUrl: options.url ?? EPSS_URL,
    fetch: (context) => fetchFeedFiles(context, [{ url: context.url, fileName: 'epss-scores.csv.gz' }]),
    async *parse(fetched) {
      const [file] = fetched.files;
      if (file === undefined || fetched.files.length !== 1) throw new FeedParseError(`epss: expected one file, got ${fetched.files.length}`);
      const input = await epssInput(file);
      try {
        yield* parseEpss(input, 'EPSS scores');
      } catch (err) {
        if (err instanceof FeedParseError) throw err;
        throw new FeedParseError(`EPSS scores: cannot read the file (${(err as Error).message})`, { cause: err });
      }
    },
  };
}

/** The `epss` updater with default options. */
export const epssUpdater: Updater = createEpssUpdater();

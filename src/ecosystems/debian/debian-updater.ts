import { createReadStream } from 'node:fs';
import type { Updater } from '../updater.ts';
import { fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { parseDebianTracker } from './parse-debian-tracker.ts';
import { supportedDebianReleases } from './supported-debian-releases.ts';

/** The Debian security tracker's JSON export (about 70 MB). */
export const DEBIAN_TRACKER_URL = 'https://security-tracker.debian.org/tracker/data/json';

/** Options of {@link createDebianUpdater}. */
export interface DebianUpdaterOptions {
  /** The tracker JSON URL (default {@link DEBIAN_TRACKER_URL}). */
  url?: string;
  /** Release codenames to keep. Default: the releases Debian supports on the day of the parse. */
  releases?: readonly string[];
  /** The clock deciding which releases are supported (tests). */
  now?: () => Date;
}

/**
 * The `debian` updater: one conditional GET of the tracker JSON (ETag / Last-Modified, sha256 of
 * the bytes as fingerprint), then a streaming parse keyed by source package; see
 * {@link parseDebianTracker} for the state and severity mapping.
 */
export function createDebianUpdater(options: DebianUpdaterOptions = {}): Updater {
  const releases = options.releases?.map((r) => r.trim().toLowerCase());
  for (const r of releases ?? []) if (!/^[a-z]+$/.test(r)) throw new Error(`debian updater: ${JSON.stringify(r)} is not a release codename`);
  const now = options.now ?? (() => new Date());
  return {
    name: 'debian',
    version: '1',
    defaultUrl: options.url ?? DEBIAN_TRACKER_URL,
    fetch: (context) => fetchFeedFiles(context, [{ url: context.url, fileName: 'debian-tracker.json' }]),
    async *parse(fetched) {
      const [file] = fetched.files;
      if (file === undefined || fetched.files.length !== 1) throw new FeedParseError(`debian: expected one file, got ${fetched.files.length}`);
      const keep = new Set(releases ?? supportedDebianReleases(now()));
      yield* parseDebianTracker(createReadStream(file, { highWaterMark: 64 * 1024 }), { releases: keep });
    },
  };
}

/** The `debian` updater with default options. */
export const debianUpdater: Updater = createDebianUpdater();

import { createReadStream } from 'node:fs';
import { parseSecdb } from '../alpine/parse-secdb.ts';
import { fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { Updater } from '../updater.ts';

/** Wolfi's security database (Alpine secdb format, one file for the rolling distribution). */
export const WOLFI_SECDB_URL = 'https://packages.wolfi.dev/os/security.json';
/** Chainguard's security database, same format. */
export const CHAINGUARD_SECDB_URL = 'https://packages.cgr.dev/chainguard/security.json';

/** Options of {@link createWolfiUpdater} and {@link createChainguardUpdater}. */
export interface RollingSecdbOptions {
  /** The security.json URL (default: the vendor's). */
  url?: string;
}

/**
 * An updater for a rolling distribution publishing one secdb file: a conditional GET of it, then
 * {@link parseSecdb} with distribution `<name>:rolling`, origin package names, no repository.
 */
function createRollingSecdbUpdater(name: 'wolfi' | 'chainguard', defaultUrl: string, label: string, options: RollingSecdbOptions): Updater {
  return {
    name,
    version: '1',
    defaultUrl: options.url ?? defaultUrl,
    fetch: (context) => fetchFeedFiles(context, [{ url: context.url, fileName: `${name}-security.json` }]),
    async *parse(fetched) {
      const [file] = fetched.files;
      if (file === undefined || fetched.files.length !== 1) throw new FeedParseError(`${name}: expected one file, got ${fetched.files.length}`);
      yield* parseSecdb(createReadStream(file, { highWaterMark: 64 * 1024 }), {
        updater: name,
        distribution: `${name}:rolling`,
        repository: null,
        what: `${label} security database`,
      });
    },
  };
}

/** The `wolfi` updater (distribution `wolfi:rolling`). */
export function createWolfiUpdater(options: RollingSecdbOptions = {}): Updater {
  return createRollingSecdbUpdater('wolfi', WOLFI_SECDB_URL, 'Wolfi', options);
}

/** The `chainguard` updater (distribution `chainguard:rolling`). */
export function createChainguardUpdater(options: RollingSecdbOptions = {}): Updater {
  return createRollingSecdbUpdater('chainguard', CHAINGUARD_SECDB_URL, 'Chainguard', options);
}

/** The `wolfi` updater with default options. */
export const wolfiUpdater: Updater = createWolfiUpdater();
/** The `chainguard` updater with default options. */
export const chainguardUpdater: Updater = createChainguardUpdater();

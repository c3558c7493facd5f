import { fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { Updater } from '../updater.ts';
import { findOsvEcosystem, OSV_ECOSYSTEMS, type OsvEcosystem } from './osv-ecosystems.ts';
import { parseOsvZip } from './parse-osv-zip.ts';

/** Where OSV publishes its per-ecosystem bulk exports. */
export const OSV_BUCKET_URL = 'https://osv-vulnerabilities.storage.googleapis.com/';

/** Options of {@link createOsvUpdater}. */
export interface OsvUpdaterOptions {
  /** The ecosystem: OSV name (`PyPI`), Lookout value (`pypi`) or updater name (`osv-pypi`). */
  ecosystem: string;
  /** The archive URL (default `<bucket>/<Ecosystem>/all.zip`). */
  url?: string;
  /** The clock deciding which withdrawals are in effect (tests). */
  now?: () => Date;
}

/**
 * One OSV updater per ecosystem (`osv-npm`, `osv-pypi`, `osv-go`, `osv-maven`, `osv-gem`,
 * `osv-cargo`), so each archive has its own fingerprint and one unchanged archive costs one
 * conditional request, not a re-download of all of them. Fetch: conditional GET of `all.zip` into
 * the spool; parse: {@link parseOsvZip} (yauzl, entry by entry).
 */
export function createOsvUpdater(options: OsvUpdaterOptions): Updater {
  const eco: OsvEcosystem | undefined = findOsvEcosystem(options.ecosystem);
  if (eco === undefined) throw new Error(`osv updater: unsupported ecosystem ${JSON.stringify(options.ecosystem)} (one of ${OSV_ECOSYSTEMS.map((e) => e.osv).join(', ')})`);
  const now = options.now ?? (() => new Date());
  return {
    name: eco.updater,
    version: '1',
    defaultUrl: options.url ?? `${OSV_BUCKET_URL}${encodeURIComponent(eco.osv)}/all.zip`,
    fetch: (context) => fetchFeedFiles(context, [{ url: context.url, fileName: `${eco.updater}-all.zip` }]),
    async *parse(fetched) {
      const [file] = fetched.files;
      if (file === undefined || fetched.files.length !== 1) throw new FeedParseError(`${eco.updater}: expected one file, got ${fetched.files.length}`);
      yield* parseOsvZip(file, { ecosystem: eco, now: now() });
    },
  };
}

/** The OSV updaters for `ecosystems` (default: npm, PyPI, Go, Maven, RubyGems, crates.io). */
export function createOsvUpdaters(ecosystems: readonly string[] = OSV_ECOSYSTEMS.map((e) => e.osv)): Updater[] {
  return ecosystems.map((ecosystem) => createOsvUpdater({ ecosystem }));
}

/** The default OSV updaters, one per ecosystem. */
export const osvUpdaters: readonly Updater[] = createOsvUpdaters();

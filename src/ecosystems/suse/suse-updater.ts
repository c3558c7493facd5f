import path from 'node:path';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { directoryUrl, fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { openFeedFile } from '../../feeds/open-feed-file.ts';
import { readOvalDefinitions, type ReadOvalOptions } from '../oval/read-oval-definitions.ts';
import type { Updater } from '../updater.ts';
import { suseOvalRecords } from './suse-oval-records.ts';

/** Where SUSE publishes its OVAL files. */
export const SUSE_OVAL_URL = 'https://ftp.suse.com/pub/projects/security/oval/';

/** Products fetched by default: SLES 12 and 15 (every service pack is in one file) and the supported Leap releases. */
export const DEFAULT_SUSE_PRODUCTS: readonly string[] = ['sles:15', 'sles:12', 'opensuse-leap:15.6', 'opensuse-leap:15.5'];

export interface SuseUpdaterOptions {
  /** Products as `sles:<major>` or `opensuse-leap:<version>`. */
  products?: readonly string[];
  limits?: Omit<ReadOvalOptions, 'label'>;
  maxFileBytes?: number;
}

/** The OVAL file of a product: `sles:15` → `suse.linux.enterprise.server.15.xml.gz`, `opensuse-leap:15.5` → `opensuse.leap.15.5.xml.gz`. */
export function suseOvalFileName(product: string): string {
  const m = /^(sles|opensuse-leap):(\d+(?:\.\d+)?)$/.exec(product.trim());
  if (!m) throw new Error(`suse updater: ${JSON.stringify(product)} is not sles:<major> or opensuse-leap:<version>`);
  return m[1] === 'sles' ? `suse.linux.enterprise.server.${m[2]}.xml.gz` : `opensuse.leap.${m[2]}.xml.gz`;
}

/**
 * The `suse` updater: SUSE's OVAL per product, fetched conditionally and parsed streaming into
 * `sles:<version>` / `opensuse-leap:<version>` records per CVE (the service pack is read from each
 * branch's release check; see {@link suseOvalRecords}).
 */
export function createSuseUpdater(options: SuseUpdaterOptions = {}): Updater {
  const files = (options.products ?? DEFAULT_SUSE_PRODUCTS).map(suseOvalFileName);
  return {
    name: 'suse',
    version: '1',
    defaultUrl: SUSE_OVAL_URL,
    fetch: (context) => fetchFeedFiles(context, files.map((f) => ({ url: new URL(f, directoryUrl(context.url)).toString(), fileName: f }))),
    async *parse(fetched) {
      if (fetched.files.length === 0) throw new FeedParseError('suse: no files to parse');
      for (const file of fetched.files) {
        const label = path.basename(file);
        const definitions = readOvalDefinitions(() => openFeedFile(file, { maxBytes: options.maxFileBytes }), { ...options.limits, label });
        for await (const definition of definitions) yield* suseOvalRecords(definition);
      }
    },
  };
}

/** The `suse` updater with default options. */
export const suseUpdater: Updater = createSuseUpdater();

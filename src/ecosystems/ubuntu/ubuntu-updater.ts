import path from 'node:path';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { directoryUrl, fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { openFeedFile } from '../../feeds/open-feed-file.ts';
import { readOvalDefinitions, type ReadOvalOptions } from '../oval/read-oval-definitions.ts';
import type { Updater } from '../updater.ts';
import { ubuntuOvalRecords } from './ubuntu-oval-records.ts';

/** Where Canonical publishes the per-release CVE OVAL files. */
export const UBUNTU_OVAL_URL = 'https://security-metadata.canonical.com/oval/';

/** Releases fetched by default: the LTS releases still receiving standard security updates. */
export const DEFAULT_UBUNTU_RELEASES: readonly string[] = ['focal', 'jammy', 'noble'];

export interface UbuntuUpdaterOptions {
  /** Release codenames (`jammy`); one file `com.ubuntu.<codename>.cve.oval.xml.bz2` each. */
  releases?: readonly string[];
  /** Limits for the XML reader (see {@link ReadOvalOptions}). */
  limits?: Omit<ReadOvalOptions, 'label'>;
  /** Largest decompressed size of one file (default 4 GiB). */
  maxFileBytes?: number;
}

/** The spool file name of a release's OVAL file. */
export function ubuntuOvalFileName(codename: string): string {
  return `com.ubuntu.${codename}.cve.oval.xml.bz2`;
}

/**
 * The `ubuntu` updater: Canonical's CVE OVAL, one bzip2 file per release, fetched conditionally
 * (ETag / Last-Modified per URL, sha256 of the bytes as fingerprint) and parsed streaming into
 * source-package records (see {@link ubuntuOvalRecords}).
 */
export function createUbuntuUpdater(options: UbuntuUpdaterOptions = {}): Updater {
  const releases = (options.releases ?? DEFAULT_UBUNTU_RELEASES).map((r) => r.trim().toLowerCase());
  for (const r of releases) if (!/^[a-z]+$/.test(r)) throw new Error(`ubuntu updater: ${JSON.stringify(r)} is not a release codename`);
  return {
    name: 'ubuntu',
    version: '1',
    defaultUrl: UBUNTU_OVAL_URL,
    fetch: (context) =>
      fetchFeedFiles(
        context,
        releases.map((r) => ({ url: new URL(ubuntuOvalFileName(r), directoryUrl(context.url)).toString(), fileName: ubuntuOvalFileName(r) })),
        { inflateBzip2: true, ...(options.maxFileBytes === undefined ? {} : { maxFileBytes: options.maxFileBytes }) },
      ),
    async *parse(fetched) {
      if (fetched.files.length === 0) throw new FeedParseError('ubuntu: no files to parse');
      for (const file of fetched.files) {
        const label = path.basename(file);
        const fallback = /com\.ubuntu\.([a-z]+)\./.exec(label)?.[1] ?? null;
        const definitions = readOvalDefinitions(() => openFeedFile(file, { maxBytes: options.maxFileBytes }), { ...options.limits, label });
        for await (const definition of definitions) yield* ubuntuOvalRecords(definition, fallback);
      }
    },
  };
}

/** The `ubuntu` updater with default options. */
export const ubuntuUpdater: Updater = createUbuntuUpdater();

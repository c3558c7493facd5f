import path from 'node:path';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { directoryUrl, fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { openFeedFile } from '../../feeds/open-feed-file.ts';
import { readOvalDefinitions, type ReadOvalOptions } from '../oval/read-oval-definitions.ts';
import type { Updater } from '../updater.ts';
import { photonOvalRecords } from './photon-oval-records.ts';

/** Where VMware publishes the Photon OVAL files. */
export const PHOTON_OVAL_URL = 'https://packages.vmware.com/photon/photon_oval_definitions/';

/** Photon major releases fetched by default. */
export const DEFAULT_PHOTON_RELEASES: readonly string[] = ['3', '4', '5'];

export interface PhotonUpdaterOptions {
  /** Major releases; one file `com.vmware.phsa-photon<N>.xml.gz` each. */
  releases?: readonly string[];
  limits?: Omit<ReadOvalOptions, 'label'>;
  maxFileBytes?: number;
}

/** The file name of a Photon release's OVAL file. */
export function photonOvalFileName(major: string): string {
  return `com.vmware.phsa-photon${major}.xml.gz`;
}

/**
 * The `photon` updater: VMware's PHSA OVAL, one gzip file per release, fetched conditionally and
 * parsed streaming into advisory records (see {@link photonOvalRecords}).
 */
export function createPhotonUpdater(options: PhotonUpdaterOptions = {}): Updater {
  const releases = (options.releases ?? DEFAULT_PHOTON_RELEASES).map((r) => r.trim());
  for (const r of releases) if (!/^\d+$/.test(r)) throw new Error(`photon updater: ${JSON.stringify(r)} is not a major release`);
  return {
    name: 'photon',
    version: '1',
    defaultUrl: PHOTON_OVAL_URL,
    fetch: (context) =>
      fetchFeedFiles(
        context,
        releases.map((r) => ({ url: new URL(photonOvalFileName(r), directoryUrl(context.url)).toString(), fileName: photonOvalFileName(r) })),
      ),
    async *parse(fetched) {
      if (fetched.files.length === 0) throw new FeedParseError('photon: no files to parse');
      for (const file of fetched.files) {
        const label = path.basename(file);
        const fallback = /photon(\d+)/.exec(label)?.[1] ?? null;
        const definitions = readOvalDefinitions(() => openFeedFile(file, { maxBytes: options.maxFileBytes }), { ...options.limits, label });
        for await (const definition of definitions) yield* photonOvalRecords(definition, fallback);
      }
    },
  };
}

/** The `photon` updater with default options. */
export const photonUpdater: Updater = createPhotonUpdater();

import path from 'node:path';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { directoryUrl, fetchFeedFiles } from '../../feeds/fetch-feed-files.ts';
import { openFeedFile } from '../../feeds/open-feed-file.ts';
import { readOvalDefinitions, type ReadOvalOptions } from '../oval/read-oval-definitions.ts';
import type { Updater } from '../updater.ts';
import { oracleOvalRecords } from './oracle-oval-records.ts';

/** Where Oracle publishes the ELSA OVAL files. */
export const ORACLE_OVAL_URL = 'https://linux.oracle.com/security/oval/';

export interface OracleUpdaterOptions {
  /** Files under the base URL (default the single `com.oracle.elsa-all.xml.bz2`; per-year files also work). */
  files?: readonly string[];
  /** Oracle Linux major releases to keep (`['8', '9']`); all when absent. */
  releases?: readonly string[];
  limits?: Omit<ReadOvalOptions, 'label'>;
  maxFileBytes?: number;
}

/**
 * The `oracle` updater: the ELSA OVAL (all errata in one bzip2 file by default), fetched
 * conditionally and parsed streaming into `ol:N` records per advisory (see {@link oracleOvalRecords}).
 */
export function createOracleUpdater(options: OracleUpdaterOptions = {}): Updater {
  const files = options.files ?? ['com.oracle.elsa-all.xml.bz2'];
  for (const f of files) if (!/^[A-Za-z0-9._-]+$/.test(f)) throw new Error(`oracle updater: ${JSON.stringify(f)} is not a file name`);
  const releases = options.releases ? new Set(options.releases.map((r) => r.trim())) : undefined;
  for (const r of releases ?? []) if (!/^\d+$/.test(r)) throw new Error(`oracle updater: ${JSON.stringify(r)} is not a major release`);
  return {
    name: 'oracle',
    version: '1',
    defaultUrl: ORACLE_OVAL_URL,
    fetch: (context) =>
      fetchFeedFiles(
        context,
        files.map((f) => ({ url: new URL(f, directoryUrl(context.url)).toString(), fileName: f })),
        { inflateBzip2: true, ...(options.maxFileBytes === undefined ? {} : { maxFileBytes: options.maxFileBytes }) },
      ),
    async *parse(fetched) {
      if (fetched.files.length === 0) throw new FeedParseError('oracle: no files to parse');
      for (const file of fetched.files) {
        const label = path.basename(file);
        const definitions = readOvalDefinitions(() => openFeedFile(file, { maxBytes: options.maxFileBytes }), { ...options.limits, label });
        for await (const definition of definitions) yield* oracleOvalRecords(definition, { releases });
      }
    },
  };
}

/** The `oracle` updater with default options. */
export const oracleUpdater: Updater = createOracleUpdater();

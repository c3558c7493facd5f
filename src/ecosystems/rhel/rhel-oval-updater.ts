import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { downloadToSpool } from '../../feeds/download-to-spool.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { directoryUrl, fingerprintOf, sha256File } from '../../feeds/fetch-feed-files.ts';
import { mapLimit } from '../../feeds/map-limit.ts';
import { inflateBzip2InSpool } from '../../feeds/inflate-in-spool.ts';
import { openFeedFile } from '../../feeds/open-feed-file.ts';
import { readOvalDefinitions, type ReadOvalOptions } from '../oval/read-oval-definitions.ts';
import { UNCHANGED, type Fetched, type Updater } from '../updater.ts';
import { rhelOvalRecords } from './rhel-oval-records.ts';

/** Where Red Hat publishes OVAL v2, with a `PULP_MANIFEST` listing every file, its sha256 and size. */
export const RHEL_OVAL_URL = 'https://security.access.redhat.com/data/oval/v2/';

/** RHEL major releases fetched by default. */
export const DEFAULT_RHEL_OVAL_RELEASES: readonly string[] = ['7', '8', '9'];

export interface RhelOvalUpdaterOptions {
  /** Major releases; every `RHEL<N>/*.oval.xml.bz2` file of the manifest is fetched. */
  releases?: readonly string[];
  /** Globs over manifest paths replacing the release selection (`RHEL9/rhel-9-including-unpatched.oval.xml.bz2`). */
  include?: readonly string[];
  /** Most files fetched in one run (default 500). */
  maxFiles?: number;
  limits?: Omit<ReadOvalOptions, 'label'>;
  maxFileBytes?: number;
}

/** One line of a `PULP_MANIFEST`: `path,sha256,size`. */
export interface PulpManifestEntry {
  path: string;
  sha256: string;
  size: number;
}

/** Parses a `PULP_MANIFEST` (`path,sha256,size` per line); a malformed line throws. */
export function parsePulpManifest(text: string): PulpManifestEntry[] {
  const out: PulpManifestEntry[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^([A-Za-z0-9._/+-]+),([0-9a-f]{64}),(\d+)$/.exec(line);
    if (!m || m[1]!.split('/').includes('..')) throw new FeedParseError(`PULP_MANIFEST line ${i + 1} is not path,sha256,size: ${JSON.stringify(line.slice(0, 200))}`);
    out.push({ path: m[1]!, sha256: m[2]!, size: Number(m[3]) });
  }
  return out;
}

/**
 * The `rhel-oval` updater, the fallback to `rhel-vex`: Red Hat OVAL v2. `PULP_MANIFEST` is fetched
 * conditionally (304 → unchanged after one request); the fingerprint is the selected manifest
 * lines (each file's sha256), so a manifest change that leaves the selected files alone is
 * unchanged too. Otherwise every selected file is downloaded and checked against its manifest
 * sha256 and size, then parsed streaming (see {@link rhelOvalRecords}).
 */
export function createRhelOvalUpdater(options: RhelOvalUpdaterOptions = {}): Updater {
  const releases = (options.releases ?? DEFAULT_RHEL_OVAL_RELEASES).map((r) => r.trim());
  for (const r of releases) if (!/^\d+$/.test(r)) throw new Error(`rhel-oval updater: ${JSON.stringify(r)} is not a major release`);
  const globs = options.include ?? releases.map((r) => `RHEL${r}/*.oval.xml.bz2`);
  const selected = picomatch([...globs]);
  const maxFiles = options.maxFiles ?? 500;
  return {
    name: 'rhel-oval',
    version: '1',
    defaultUrl: RHEL_OVAL_URL,
    async fetch(context) {
      const base = directoryUrl(context.url);
      const manifestUrl = new URL('PULP_MANIFEST', base).toString();
      const conditional = context.previousFingerprint !== null;
      const manifest = await downloadToSpool(context.http, manifestUrl, context.spoolDir, 'PULP_MANIFEST', conditional ? context.validators[manifestUrl] : undefined, context.signal);
      if (manifest.file === null) return UNCHANGED;
      if ((await stat(manifest.file)).size > 16 * 1024 * 1024) throw new FeedParseError('rhel-oval: PULP_MANIFEST is larger than 16 MiB');
      const entries = parsePulpManifest(await readFile(manifest.file, 'utf8')).filter((e) => selected(e.path));
      if (entries.length === 0) throw new FeedParseError(`rhel-oval: PULP_MANIFEST lists no file matching ${globs.join(', ')}`);
      if (entries.length > maxFiles) throw new FeedParseError(`rhel-oval: ${entries.length} files selected, more than the limit of ${maxFiles}`);
      const fingerprint = fingerprintOf(entries.map((e) => ({ url: e.path, sha256: e.sha256 })));
      const validators: Fetched['validators'] = { [manifestUrl]: { etag: manifest.etag, lastModified: manifest.lastModified } };
      if (fingerprint === context.previousFingerprint) return UNCHANGED;
      const files = await mapLimit(entries, 2, async (e) => {
        const got = await downloadToSpool(context.http, new URL(e.path, base).toString(), context.spoolDir, e.path.replaceAll('/', '__'), undefined, context.signal);
        if (got.file === null) throw new Error(`${e.path} answered 304 Not Modified to a request without validators`);
        const size = (await stat(got.file)).size;
        if (size !== e.size) throw new FeedParseError(`rhel-oval: ${e.path} is ${size} bytes, PULP_MANIFEST says ${e.size}`);
        const sha = await sha256File(got.file);
        if (sha !== e.sha256) throw new FeedParseError(`rhel-oval: ${e.path} has sha256 ${sha}, PULP_MANIFEST says ${e.sha256}`);
        return inflateBzip2InSpool(got.file, options.maxFileBytes === undefined ? {} : { maxBytes: options.maxFileBytes });
      });
      return { fingerprint, validators, files };
    },
    async *parse(fetched) {
      const ovalFiles = fetched.files.filter((f) => path.basename(f) !== 'PULP_MANIFEST');
      if (ovalFiles.length === 0) throw new FeedParseError('rhel-oval: no files to parse');
      for (const file of ovalFiles) {
        const label = path.basename(file);
        const fallbackRelease = /RHEL(\d+)/.exec(file)?.[1] ?? null;
        const definitions = readOvalDefinitions(() => openFeedFile(file, { maxBytes: options.maxFileBytes }), { ...options.limits, label });
        for await (const definition of definitions) yield* rhelOvalRecords(definition, { fallbackRelease });
      }
    },
  };
}

/** The `rhel-oval` updater with default options. */
export const rhelOvalUpdater: Updater = createRhelOvalUpdater();

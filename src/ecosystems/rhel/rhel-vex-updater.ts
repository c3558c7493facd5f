import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { downloadToSpool, type SpoolResult } from '../../feeds/download-to-spool.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { directoryUrl, fingerprintOf, sha256File } from '../../feeds/fetch-feed-files.ts';
import { mapLimit } from '../../feeds/map-limit.ts';
import { openFeedFile } from '../../feeds/open-feed-file.ts';
import { UNCHANGED, type Fetched, type Updater } from '../updater.ts';
import type { VulnerabilityRecord } from '../vulnerability-record.ts';
import { csafVexRecords } from './csaf-vex-records.ts';
import { isVexPath, parseVexIndexCsv } from './vex-index-csv.ts';

/** Where Red Hat publishes CSAF VEX: `archive_latest.txt`, the archive it names, `changes.csv`, `deletions.csv`, `<year>/<cve>.json`. */
export const RHEL_VEX_URL = 'https://security.access.redhat.com/data/csaf/v2/vex/';

export interface RhelVexUpdaterOptions {
  /** Skip documents filed under years before this one (Clair looks back to 2014); all by default. */
  fromYear?: number;
  /** Most changed documents fetched one by one after the archive (default 20,000). */
  maxChangedDocuments?: number;
  /** Largest single VEX document, in bytes (default 256 MiB; kernel documents are the big ones). */
  maxDocumentBytes?: number;
  /** Parallel downloads of changed documents (default 4). */
  concurrency?: number;
}

const INDEX_FILES = ['archive_latest.txt', 'changes.csv', 'deletions.csv'] as const;
const CHANGED_PREFIX = 'changed__';
const EXCLUDES_FILE = 'archive-excludes.txt';

function yearOf(docPath: string): number {
  return Number.parseInt(docPath.slice(0, 4), 10);
}

/**
 * The `rhel-vex` updater, primary source for RHEL: Red Hat's CSAF VEX, one document per CVE.
 *
 * Fetch: `archive_latest.txt`, `changes.csv` and `deletions.csv` are asked conditionally; all three
 * 304 → unchanged after three requests. Otherwise the archive named by `archive_latest.txt`
 * (`csaf_vex_YYYY-MM-DD.tar.zst`) is downloaded, then every document `changes.csv` lists as
 * changed after the archive was made (its Last-Modified, else the date in its name) and not
 * deleted since, one by one. The fingerprint covers the archive, `deletions.csv` and each changed
 * document's bytes.
 *
 * Parse (a full snapshot each run; the updater contract has no deltas): the archive is streamed
 * entry by entry (zstd, tar), skipping documents changed since (their fresh copy is read instead)
 * or deleted since (`deletions.csv` entries newer than the archive, written by the fetch to
 * `archive-excludes.txt`); each document is parsed into records by {@link csafVexRecords}.
 * Plain `.json` / `.json.gz` files are parsed as single documents too.
 */
export function createRhelVexUpdater(options: RhelVexUpdaterOptions = {}): Updater {
  const maxChanged = options.maxChangedDocuments ?? 20_000;
  const maxDocumentBytes = options.maxDocumentBytes ?? 256 * 1024 * 1024;
  const fromYear = options.fromYear ?? 0;
  return {
    name: 'rhel-vex',
    version: '1',
    defaultUrl: RHEL_VEX_URL,
    async fetch(context) {
      const base = directoryUrl(context.url);
      const conditional = context.previousFingerprint !== null;
      const urls = INDEX_FILES.map((f) => new URL(f, base).toString());
      const get = (url: string, name: string, withValidators: boolean): Promise<SpoolResult> =>
        downloadToSpool(context.http, url, context.spoolDir, name, withValidators ? context.validators[url] : undefined, context.signal);
      const first: SpoolResult[] = [];
      for (const [i, url] of urls.entries()) first.push(await get(url, INDEX_FILES[i]!, conditional));
      if (first.every((r) => r.file === null)) return UNCHANGED;
      const index: SpoolResult[] = [];
      for (const [i, url] of urls.entries()) index.push(first[i]!.file === null ? await get(url, INDEX_FILES[i]!, false) : first[i]!);
      const [latest, changes, deletions] = index.map((r, i) => {
        if (r.file === null) throw new Error(`${urls[i]} answered 304 Not Modified to a request without validators`);
        return r.file;
      }) as [string, string, string];

      if ((await stat(latest)).size > 4096) throw new FeedParseError('rhel-vex: archive_latest.txt is not a file name');
      const archiveName = (await readFile(latest, 'utf8')).trim();
      if (!/^[A-Za-z0-9._-]+\.tar\.zst$/.test(archiveName)) throw new FeedParseError(`rhel-vex: archive_latest.txt names ${JSON.stringify(archiveName.slice(0, 200))}, not a .tar.zst file`);
      const archive = await get(new URL(archiveName, base).toString(), archiveName, false);
      if (archive.file === null) throw new Error(`${archiveName} answered 304 Not Modified to a request without validators`);
      const dated = /(\d{4}-\d{2}-\d{2})/.exec(archiveName)?.[1];
      const archiveTime = Date.parse(archive.lastModified ?? '') || (dated ? Date.parse(`${dated}T00:00:00Z`) : Number.NaN);
      if (!Number.isFinite(archiveTime)) throw new FeedParseError(`rhel-vex: cannot tell when ${archiveName} was made (no Last-Modified, no date in its name)`);

      const deleted = parseVexIndexCsv(await readFile(deletions, 'utf8'), 'deletions.csv');
      const wanted = [...parseVexIndexCsv(await readFile(changes, 'utf8'), 'changes.csv')]
        .filter(([doc, time]) => time > archiveTime && yearOf(doc) >= fromYear && !((deleted.get(doc) ?? -Infinity) >= time))
        .map(([doc]) => doc)
        .sort();
      if (wanted.length > maxChanged) throw new FeedParseError(`rhel-vex: ${wanted.length} documents changed since ${archiveName}, more than the limit of ${maxChanged}`);
      const changed = await mapLimit(wanted, options.concurrency ?? 4, async (doc) => {
        const got = await get(new URL(doc, base).toString(), `${CHANGED_PREFIX}${doc.replaceAll('/', '__')}`, false);
        if (got.file === null) throw new Error(`${doc} answered 304 Not Modified to a request without validators`);
        return { doc, file: got.file };
      });

      // Documents the archive still holds but Red Hat deleted after making it.
      const excludes = path.join(context.spoolDir, EXCLUDES_FILE);
      const dropped = [...deleted].filter(([, time]) => time > archiveTime).map(([doc]) => doc).sort();
      await writeFile(excludes, dropped.map((d) => `${d}\n`).join(''));

      const parts = [
        { url: archiveName, sha256: await sha256File(archive.file) },
        { url: 'deletions.csv', sha256: await sha256File(deletions) },
      ];
      for (const c of changed) parts.push({ url: c.doc, sha256: await sha256File(c.file) });
      const fingerprint = fingerprintOf(parts);
      if (fingerprint === context.previousFingerprint) return UNCHANGED;
      const validators: Fetched['validators'] = {};
      for (const [i, url] of urls.entries()) validators[url] = { etag: index[i]!.etag, lastModified: index[i]!.lastModified };
      return { fingerprint, validators, files: [latest, changes, deletions, excludes, archive.file, ...changed.map((c) => c.file)] };
    },
    async *parse(fetched) {
      const excluded = new Set<string>();
      const archives: string[] = [];
      const changed = new Map<string, string>();
      const documents: string[] = [];
      for (const file of fetched.files) {
        const base = path.basename(file);
        if (base === 'archive_latest.txt' || base === 'changes.csv' || base === 'deletions.csv') continue;
        if (base === EXCLUDES_FILE) {
          for (const line of (await readFile(file, 'utf8')).split('\n')) if (isVexPath(line.trim())) excluded.add(line.trim());
        } else if (base.endsWith('.tar.zst')) archives.push(file);
        else if (base.startsWith(CHANGED_PREFIX)) changed.set(base.slice(CHANGED_PREFIX.length).replaceAll('__', '/'), file);
        else documents.push(file);
      }
      if (archives.length === 0 && changed.size === 0 && documents.length === 0) throw new FeedParseError('rhel-vex: no documents to parse');
      for (const archive of archives) {
        for await (const { name, body } of tarJsonEntries(archive, maxDocumentBytes)) {
          const doc = name.replace(/^\.\//, '');
          if (changed.has(doc) || excluded.has(doc) || (isVexPath(doc) && yearOf(doc) < fromYear)) continue;
          yield* parseDocument(body, `${path.basename(archive)}:${doc}`);
        }
      }
      for (const [doc, file] of changed) yield* parseDocument(await readLimited(file, maxDocumentBytes), doc);
      for (const file of documents) yield* parseDocument(await readLimited(file, maxDocumentBytes), path.basename(file));
    },
  };
}

function parseDocument(body: Buffer, label: string): VulnerabilityRecord[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new FeedParseError(`${label}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  return csafVexRecords(json, label);
}

async function readLimited(file: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await openFeedFile(file, { maxBytes })) {
    size += (chunk as Buffer).length;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/** The `.json` regular files of a `.tar.zst` archive, one buffered document at a time. */
async function* tarJsonEntries(archive: string, maxBytes: number): AsyncGenerator<{ name: string; body: Buffer }> {
  const label = path.basename(archive);
  const extract = tarExtract();
  const source = createReadStream(archive, { highWaterMark: 1024 * 1024 });
  const zstd = zlib.createZstdDecompress();
  const fail = (err: Error): void => {
    extract.destroy(new FeedParseError(`${label}: ${err.message}`, { cause: err }));
  };
  source.on('error', fail);
  zstd.on('error', fail);
  source.pipe(zstd).pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const { name, type, size } = entry.header;
      if (type !== 'file' || !name.endsWith('.json')) {
        entry.resume();
        continue;
      }
      if (size > maxBytes) throw new FeedParseError(`${label}: ${name} is ${size} bytes, over the limit of ${maxBytes}`);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      yield { name, body: Buffer.concat(chunks) };
    }
  } catch (err) {
    if (err instanceof FeedParseError) throw err;
    throw new FeedParseError(`${label}: corrupt archive: ${(err as Error).message}`, { cause: err });
  } finally {
    source.destroy();
    zstd.destroy();
  }
}

/** The `rhel-vex` updater with default options. */
export const rhelVexUpdater: Updater = createRhelVexUpdater();

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { UNCHANGED, type FetchContext, type Fetched } from '../ecosystems/updater.ts';
import { downloadToSpool } from './download-to-spool.ts';
import { inflateBzip2InSpool } from './inflate-in-spool.ts';
import { mapLimit } from './map-limit.ts';

/** One file of a feed: where it comes from and the name it gets in the spool directory. */
export interface FeedFile {
  url: string;
  fileName: string;
}

/** The sha256 (hex) of a file's bytes, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The fingerprint of a set of downloaded files: a sha256 over each URL and the sha256 of its bytes,
 * so equal fingerprints mean the same URLs served the same bytes.
 */
export function fingerprintOf(parts: ReadonlyArray<{ url: string; sha256: string }>): string {
  const hash = createHash('sha256');
  for (const { url, sha256 } of [...parts].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))) hash.update(`${url}\n${sha256}\n`);
  return `sha256:${hash.digest('hex')}`;
}

/** How {@link fetchFeedFiles} downloads. */
export interface FetchFeedFilesOptions {
  /** Downloads at once (default 4). */
  concurrency?: number;
  /** Store bzip2 files decompressed, once, after hashing (the fingerprint stays that of the bytes as served). */
  inflateBzip2?: boolean;
  /** Decompressed size limit for `inflateBzip2`. */
  maxFileBytes?: number;
}

/**
 * Conditional download of a feed's files into the spool directory.
 *
 * - With a previous fingerprint, each URL is asked with its previous validators (ETag /
 *   Last-Modified); when every URL answers 304 and the set of URLs is the one of last time, the
 *   result is {@link UNCHANGED} — exactly one request per URL.
 * - Otherwise the files that answered 304 are fetched again unconditionally (a parse needs every
 *   file), each file is hashed, and the fingerprint covers URLs and bytes. When the bytes are the
 *   ones of the previous run (a server without validators), the result is {@link UNCHANGED} too.
 *
 * Downloads run `concurrency` at a time (default 4); errors (refused URL, HTTP status, limits) reject.
 */
export async function fetchFeedFiles(context: FetchContext, files: readonly FeedFile[], options: FetchFeedFilesOptions = {}): Promise<Fetched | typeof UNCHANGED> {
  const names = new Set(files.map((f) => f.fileName));
  if (names.size !== files.length) throw new Error('feed file names must be unique');
  const previousUrls = Object.keys(context.validators);
  const sameUrls = previousUrls.length === files.length && files.every((f) => Object.hasOwn(context.validators, f.url));
  const conditional = context.previousFingerprint !== null && sameUrls;

  const results = await mapLimit(files, options.concurrency ?? 4, (f) =>
    downloadToSpool(context.http, f.url, context.spoolDir, f.fileName, conditional ? context.validators[f.url] : undefined, context.signal),
  );
  if (files.length > 0 && results.every((r) => r.file === null)) return UNCHANGED;

  const refetched = await mapLimit(files, options.concurrency ?? 4, async (f, i) =>
    results[i]!.file === null ? downloadToSpool(context.http, f.url, context.spoolDir, f.fileName, undefined, context.signal) : results[i]!,
  );
  const validators: Fetched['validators'] = {};
  const parts: Array<{ url: string; sha256: string }> = [];
  const paths: string[] = [];
  for (const [i, f] of files.entries()) {
    const r = refetched[i]!;
    if (r.file === null) throw new Error(`${f.url} answered 304 to an unconditional request`);
    validators[f.url] = { etag: r.etag, lastModified: r.lastModified };
    parts.push({ url: f.url, sha256: await sha256File(r.file) });
    paths.push(r.file);
  }
  const fingerprint = fingerprintOf(parts);
  if (fingerprint === context.previousFingerprint) return UNCHANGED;
  if (options.inflateBzip2) {
    for (const [i, p] of paths.entries()) paths[i] = await inflateBzip2InSpool(p, options.maxFileBytes === undefined ? {} : { maxBytes: options.maxFileBytes });
  }
  return { fingerprint, validators, files: paths };
}

/** `base` with a trailing slash, so relative paths resolve under it. */
export function directoryUrl(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { downloadToSpool, type SpoolResult } from '../../feeds/download-to-spool.ts';
import { UNCHANGED, type FetchContext, type Fetched } from '../updater.ts';
import { inflateBzip2InSpool } from './inflate-in-spool.ts';

/** One file of a feed: its URL and the name it gets in the spool directory. */
export interface FeedFile {
  url: string;
  fileName: string;
}

/** The sha256 (hex) of a file's bytes, read as a stream. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A fingerprint over lines of text (URL and content hash per file): `sha256:<hex>`. */
export function fingerprintLines(lines: readonly string[]): string {
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Conditional download of a fixed list of files into the run's spool directory. Each URL is asked
 * once with its previous validators (ETag / Last-Modified); when every URL answers 304 and a
 * previous run exists, the result is {@link UNCHANGED} after exactly one request per URL. Otherwise
 * the files that answered 304 are fetched again without validators (a parse needs all of them),
 * every file is hashed, and the fingerprint covers each URL with the sha256 of its bytes (equal
 * bytes from a server without validators also give {@link UNCHANGED}). With `inflateBzip2`, bzip2
 * files are then stored decompressed (the fingerprint stays that of the bytes as served).
 */
export interface FetchFeedFilesOptions {
  /** Downloads at once (default 2). */
  concurrency?: number;
  /** Decompress bzip2 files once, after hashing (see {@link inflateBzip2InSpool}). */
  inflateBzip2?: boolean;
  /** Decompressed size limit for `inflateBzip2`. */
  maxFileBytes?: number;
}

export async function fetchFeedFiles(context: FetchContext, files: readonly FeedFile[], options: FetchFeedFilesOptions = {}): Promise<Fetched | typeof UNCHANGED> {
  const concurrency = options.concurrency ?? 2;
  if (new Set(files.map((f) => f.fileName)).size !== files.length) throw new Error('feed file names must be unique');
  const conditional = context.previousFingerprint !== null;
  const first = await mapLimit(files, concurrency, (f) =>
    downloadToSpool(context.http, f.url, context.spoolDir, f.fileName, conditional ? context.validators[f.url] : undefined, context.signal),
  );
  if (files.length > 0 && first.every((r) => r.file === null)) return UNCHANGED;
  const results: SpoolResult[] = await mapLimit(files, concurrency, async (f, i) =>
    first[i]!.file === null ? downloadToSpool(context.http, f.url, context.spoolDir, f.fileName, undefined, context.signal) : first[i]!,
  );
  const validators: Fetched['validators'] = {};
  const lines: string[] = [];
  const paths: string[] = [];
  for (const [i, f] of files.entries()) {
    const r = results[i]!;
    if (r.file === null) throw new Error(`${f.url} answered 304 Not Modified to a request without validators`);
    validators[f.url] = { etag: r.etag, lastModified: r.lastModified };
    lines.push(`${f.url} ${await sha256OfFile(r.file)}`);
    paths.push(r.file);
  }
  const fingerprint = fingerprintLines(lines);
  if (fingerprint === context.previousFingerprint) return UNCHANGED;
  if (options.inflateBzip2) {
    for (const [i, p] of paths.entries()) paths[i] = await inflateBzip2InSpool(p, options.maxFileBytes === undefined ? {} : { maxBytes: options.maxFileBytes });
  }
  return { fingerprint, validators, files: paths };
}

/** Maps `items` through `fn` with at most `limit` calls running, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** `base` with a trailing slash, so relative paths resolve under it. */
export function directoryUrl(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

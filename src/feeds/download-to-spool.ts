import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FeedHttp } from '../ecosystems/updater.ts';

export interface SpoolResult {
  /** The downloaded file, or null when the server said 304. */
  file: string | null;
  etag: string | null;
  lastModified: string | null;
}

/**
 * Conditional GET of `url` into `spoolDir/fileName` (streamed to disk, never held in memory).
 * Pass the validators from the previous fetch; a 304 gives `file: null` and keeps them.
 */
export async function downloadToSpool(
  http: FeedHttp,
  url: string,
  spoolDir: string,
  fileName: string,
  validators: { etag: string | null; lastModified: string | null } | undefined,
  signal?: AbortSignal,
): Promise<SpoolResult> {
  const res = await http.get({ url, etag: validators?.etag ?? null, lastModified: validators?.lastModified ?? null }, signal);
  if (res.status === 'unchanged') return { file: null, etag: validators?.etag ?? null, lastModified: validators?.lastModified ?? null };
  const file = path.join(spoolDir, fileName.replace(/[^A-Za-z0-9._-]/g, '_'));
  await pipeline(res.body, createWriteStream(file), signal ? { signal } : {});
  return { file, etag: res.etag, lastModified: res.lastModified };
}

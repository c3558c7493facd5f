import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { openFeedFile, sniffCompression, type OpenFeedFileOptions } from './open-feed-file.ts';

/**
 * Replaces a bzip2 file in the spool directory by its decompressed bytes (same name without
 * `.bz2`, or with `.xml` added) and returns the new path; other files are returned unchanged.
 * bzip2 is decompressed in JavaScript (several times slower than reading XML), and the OVAL reader
 * passes over a file twice, so doing it once at fetch time halves that cost. The decompressed size
 * limit of {@link openFeedFile} applies.
 */
export async function inflateBzip2InSpool(file: string, options: OpenFeedFileOptions = {}): Promise<string> {
  if ((await sniffCompression(file)) !== 'bzip2') return file;
  const target = file.endsWith('.bz2') ? file.slice(0, -4) : `${file}.xml`;
  await pipeline(await openFeedFile(file, options), createWriteStream(target));
  await rm(file, { force: true });
  return target;
}

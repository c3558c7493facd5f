import yauzl from 'yauzl';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';

/** Limits of {@link zipEntries}. */
export interface ZipEntriesOptions {
  /** What the archive is, for error messages. */
  what: string;
  /** Largest uncompressed entry read (larger ones throw). */
  maxEntryBytes: number;
  /** Most entries read (more throw). */
  maxEntries: number;
}

/**
 * Reads the file entries of a zip archive one at a time (directories skipped), each into memory
 * up to `maxEntryBytes` — the archive itself is read from disk by yauzl, never loaded whole.
 * A damaged archive, an entry over the limits or too many entries throw {@link FeedParseError}.
 */
export async function* zipEntries(file: string, options: ZipEntriesOptions): AsyncGenerator<{ name: string; data: Buffer }> {
  const fail = (reason: string, cause?: unknown): FeedParseError =>
    new FeedParseError(`${options.what}: ${reason}`, cause === undefined ? undefined : { cause });
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true, decodeStrings: true }, (err, z) => {
      if (err) reject(fail(`not a readable zip archive (${err.message})`, err));
      else resolve(z);
    });
  });
  // one pending waiter at a time: readEntry() is only called after the previous entry was handled
  let waiter: { resolve(e: yauzl.Entry | null): void; reject(e: Error): void } | null = null;
  zip.on('entry', (entry: yauzl.Entry) => waiter?.resolve(entry));
  zip.on('end', () => waiter?.resolve(null));
  zip.on('error', (err: Error) => waiter?.reject(fail(`damaged zip archive (${err.message})`, err)));
  const next = (): Promise<yauzl.Entry | null> =>
    new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      zip.readEntry();
    });

  let count = 0;
  try {
    for (let entry = await next(); entry !== null; entry = await next()) {
      if (entry.fileName.endsWith('/')) continue;
      if (++count > options.maxEntries) throw fail(`more than ${options.maxEntries} entries`);
      if (entry.uncompressedSize > options.maxEntryBytes) throw fail(`entry ${entry.fileName} is ${entry.uncompressedSize} bytes, over the limit of ${options.maxEntryBytes}`);
      const stream = await zip.openReadStreamPromise(entry).catch((err: Error) => {
        throw fail(`cannot read entry ${entry!.fileName} (${err.message})`, err);
      });
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of stream) {
          size += (chunk as Buffer).length;
          if (size > options.maxEntryBytes) throw fail(`entry ${entry.fileName} is over the limit of ${options.maxEntryBytes} bytes`);
          chunks.push(chunk as Buffer);
        }
      } catch (err) {
        stream.destroy();
        if (err instanceof FeedParseError) throw err;
        throw fail(`cannot read entry ${entry.fileName} (${(err as Error).message})`, err);
      }
      yield { name: entry.fileName, data: Buffer.concat(chunks, size) };
    }
  } finally {
    zip.close();
  }
}

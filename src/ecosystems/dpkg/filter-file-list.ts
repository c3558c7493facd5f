import { keepPackageFile, rootRelative } from '../os-release/keep-package-file.ts';

/** Lines longer than this in a file list are dropped (no real path is that long). */
const MAX_LINE_CHARS = 16 * 1024;

/**
 * Streams a dpkg file list (`info/<pkg>.list`: one absolute path per line) or an md5sums file
 * (`<md5>  <path>` per line) and keeps only the paths {@link keepPackageFile} wants, root-relative,
 * one per line. Memory stays bounded whatever the file's size: only one line is held at a time.
 */
export async function filterFileList(chunks: AsyncIterable<Buffer>, md5sums: boolean): Promise<Buffer> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const kept: string[] = [];
  let carry = '';
  let overlong = false;
  const take = (line: string) => {
    let p = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (md5sums) {
      const m = /^[0-9a-fA-F]{32,}\s+(.+)$/.exec(p);
      if (!m) return;
      p = m[1] as string;
    }
    p = rootRelative(p.trim());
    if (p !== '' && keepPackageFile(p)) kept.push(p);
  };
  for await (const chunk of chunks) {
    const parts = (carry + decoder.decode(chunk, { stream: true })).split('\n');
    carry = parts.pop() ?? '';
    for (const part of parts) {
      if (overlong) overlong = false;
      else take(part);
    }
    if (carry.length > MAX_LINE_CHARS) {
      carry = '';
      overlong = true;
    }
  }
  carry += decoder.decode();
  if (!overlong && carry !== '') take(carry);
  return Buffer.from(kept.join('\n'));
}

/** Reads back what {@link filterFileList} kept. */
export function keptFiles(data: Uint8Array): string[] {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return text === '' ? [] : text.split('\n');
}

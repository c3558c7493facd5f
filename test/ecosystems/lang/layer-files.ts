import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import picomatch from 'picomatch';
import type { LayerFile, LayerFiles, Scanner } from '../../../src/ecosystems/scanner.ts';
import { fixture } from '../../helpers/fixtures.ts';

/** A file as it would sit in a layer: path relative to the root, bytes, and `st_mode` (regular 0644 unless told). */
export interface LayerEntry {
  path: string;
  data: Buffer;
  mode?: number;
}

export const REGULAR = 0o100644;
export const EXECUTABLE = 0o100755;

/** A fixture file's bytes, gunzipped when its name ends in `.gz`. */
export function readFixture(...parts: string[]): Buffer {
  const bytes = readFileSync(fixture(...parts));
  return parts.at(-1)?.endsWith('.gz') === true ? gunzipSync(bytes) : bytes;
}

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/**
 * What `scanner` would see of a layer holding `entries`: its file request applied the way the
 * layer reader does (exact paths, globs with dot files, predicate, `maxBytes`, `extract` fed in
 * chunks of `chunkSize`). `unwanted` lists the paths it did not ask for, `tooBig` the ones over its cap.
 */
export async function layerFor(
  scanner: Scanner,
  entries: readonly LayerEntry[],
  chunkSize = 64 * 1024,
): Promise<{ layer: LayerFiles; unwanted: string[]; tooBig: string[] }> {
  const request = scanner.files;
  const glob = request.globs !== undefined && request.globs.length > 0 ? picomatch([...request.globs], { dot: true }) : null;
  const cap = request.maxBytes ?? (request.extract === undefined ? 64 * 1024 ** 2 : Infinity);
  const files = new Map<string, LayerFile>();
  const unwanted: string[] = [];
  const tooBig: string[] = [];
  for (const entry of entries) {
    const mode = entry.mode ?? REGULAR;
    const size = entry.data.length;
    const wanted =
      (request.paths ?? []).includes(entry.path) ||
      (glob !== null && glob(entry.path)) ||
      (request.match !== undefined && request.match(entry.path, size, mode));
    if (!wanted) {
      unwanted.push(entry.path);
      continue;
    }
    if (size > cap) {
      tooBig.push(entry.path);
      continue;
    }
    let data: Buffer | null = entry.data;
    if (request.extract !== undefined) data = await request.extract(entry.path, chunked(entry.data, chunkSize));
    if (data !== null) files.set(entry.path, { path: entry.path, size, mode, data });
  }
  return { layer: { files, symlinks: new Map() }, unwanted, tooBig };
}

/** `name@version` of each package, in order. */
export function ids(packages: readonly { name: string; version: string }[] | undefined): string[] {
  return (packages ?? []).map((p) => `${p.name}@${p.version}`);
}

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import picomatch from 'picomatch';
import { extract as tarExtract } from 'tar-stream';
import type { FileRequest, LayerFile, LayerFiles } from '../../src/ecosystems/scanner.ts';

/** One entry of a hand-built layer: file bytes (or text), or a symbolic link. */
export type LayerEntry = Buffer | string | { link: string };

/**
 * Builds the `LayerFiles` a scanner would receive for a layer holding `entries` (layer path →
 * content). With `request`, only what the request wants is kept, as the tar pipeline does:
 * exact `paths`, picomatch `globs`, the `match` predicate, `maxBytes` (bigger files are dropped)
 * and `extract` (its result becomes `data`; null drops the file). Without `request`, everything is kept.
 */
export async function layerFiles(entries: Record<string, LayerEntry>, request?: FileRequest): Promise<LayerFiles> {
  const files = new Map<string, LayerFile>();
  const symlinks = new Map<string, string>();
  const wanted = request ? wants(request) : () => true;
  for (const [path, entry] of Object.entries(entries)) {
    if (typeof entry === 'object' && !Buffer.isBuffer(entry)) {
      if (wanted(path, 0, 0o120777)) symlinks.set(path, entry.link);
      continue;
    }
    const data = typeof entry === 'string' ? Buffer.from(entry) : entry;
    const file = await keep(path, data, 0o100644, request, wanted);
    if (file) files.set(path, file);
  }
  return { files, symlinks };
}

/**
 * The files under a directory laid out like a layer (`<dir>/etc/os-release` → `etc/os-release`),
 * as entries for {@link layerFiles}; `prefix` is prepended to each path.
 */
export function entriesFromDir(dir: string, prefix = ''): Record<string, LayerEntry> {
  const out: Record<string, LayerEntry> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[prefix + path.relative(dir, full).split(path.sep).join('/')] = readFileSync(full);
  }
  return out;
}

/** Reads a fixture file (or a `.gz` one, gunzipped) into a Buffer. */
export function readFixtureBytes(file: string): Buffer {
  const data = readFileSync(file);
  return file.endsWith('.gz') ? gunzipSync(data) : data;
}

/**
 * Builds `LayerFiles` from an uncompressed layer tar (an image layer), keeping what `request` wants.
 * Symbolic links go to `symlinks`; a hard link to a wanted path gets the target's bytes, as the
 * contract says.
 */
export async function layerFilesFromTar(layerTar: Buffer, request: FileRequest): Promise<LayerFiles> {
  const files = new Map<string, LayerFile>();
  const symlinks = new Map<string, string>();
  const seen = new Map<string, Buffer>();
  const wanted = wants(request);
  for (const entry of await tarEntries(layerTar)) {
    const path = entry.name.replace(/^(?:\.\/|\/)+/, '').replace(/\/$/, '');
    if (entry.type === 'file') {
      seen.set(path, entry.data);
      const file = await keep(path, entry.data, 0o100000 | entry.mode, request, wanted);
      if (file) files.set(path, file);
    } else if (entry.type === 'symlink') {
      if (wanted(path, 0, 0o120000 | entry.mode)) symlinks.set(path, entry.linkname);
    } else if (entry.type === 'link') {
      const data = seen.get(entry.linkname.replace(/^(?:\.\/|\/)+/, ''));
      const file = data ? await keep(path, data, 0o100000 | entry.mode, request, wanted) : null;
      if (file) files.set(path, file);
    }
  }
  return { files, symlinks };
}

/**
 * Reads a `docker save` tarball (optionally gzipped) and returns each layer's tar in manifest order.
 */
export async function dockerSaveLayers(archive: Buffer): Promise<Buffer[]> {
  const members = new Map<string, Buffer>();
  for (const entry of await tarEntries(archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive)) {
    if (entry.type === 'file') members.set(entry.name, entry.data);
  }
  const manifest = JSON.parse((members.get('manifest.json') ?? Buffer.from('[]')).toString()) as Array<{ Layers: string[] }>;
  return (manifest[0]?.Layers ?? []).map((name) => {
    const layer = members.get(name);
    if (!layer) throw new Error(`layer ${name} missing from the archive`);
    return layer;
  });
}

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  linkname: string;
  data: Buffer;
}

async function tarEntries(archive: Buffer): Promise<TarEntry[]> {
  const extract = tarExtract();
  extract.end(archive);
  const out: TarEntry[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const { name, type, mode, linkname } = entry.header;
    out.push({ name, type, mode: mode ?? 0o644, linkname: linkname ?? '', data: Buffer.concat(chunks) });
  }
  return out;
}

function wants(request: FileRequest): (path: string, size: number, mode: number) => boolean {
  const paths = new Set(request.paths ?? []);
  const globs = request.globs && request.globs.length > 0 ? picomatch(request.globs as string[], { dot: true }) : null;
  return (path, size, mode) => paths.has(path) || (globs?.(path) ?? false) || (request.match?.(path, size, mode) ?? false);
}

async function keep(
  path: string,
  data: Buffer,
  mode: number,
  request: FileRequest | undefined,
  wanted: (path: string, size: number, mode: number) => boolean,
): Promise<LayerFile | null> {
  if (!wanted(path, data.length, mode)) return null;
  if (request?.maxBytes !== undefined && data.length > request.maxBytes) return null;
  if (request?.extract) {
    const extracted = await request.extract(path, (async function* () {
      // Hand the bytes over in pieces, as a tar stream would.
      for (let i = 0; i < data.length; i += 16 * 1024) yield data.subarray(i, i + 16 * 1024);
    })());
    return extracted === null ? null : { path, size: data.length, mode, data: extracted };
  }
  return { path, size: data.length, mode, data };
}

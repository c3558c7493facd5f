/**
 * Builds `docker save` archives in a test, as Docker writes them: the legacy form (`<id>/layer.tar`,
 * `<id>/VERSION`, `<id>/json`, `<config hex>.json`, a repeated layer as a symlink to the first copy)
 * or the OCI form of Docker 25+ (`blobs/sha256/<hex>` for config and layers), `manifest.json`
 * written last by default, the outer tar plain, gzip- or zstd-compressed.
 */
import { createHash } from 'node:crypto';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Digest } from '../../src/oci/digest.ts';
import { sha256, tarOf, type LayerFile } from '../helpers/oci-image-builder.ts';

/** One image of the archive. */
export interface SaveImage {
  /** Files of each layer, bottom first. The same array object twice makes a repeated layer. */
  layers: readonly (readonly LayerFile[])[];
  repoTags?: string[];
  platform?: { os: string; architecture: string; variant?: string };
  /** Store these layers (by index) gzip-compressed, as newer Docker versions may. */
  gzipLayers?: readonly number[];
}

/** One outer-archive entry, for tests that tamper with the archive. */
export interface SaveEntry {
  name: string;
  data?: Buffer;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

/** What was built, for the assertions. */
export interface BuiltSave {
  /** The outer archive as written (compressed when asked). */
  bytes: Buffer;
  /** The uncompressed outer tar. */
  tar: Buffer;
  images: {
    configDigest: Digest;
    diffIds: Digest[];
    /** sha256 of each layer as stored. */
    layerDigests: Digest[];
    /** Each layer as stored. */
    layerBytes: Buffer[];
    /** The names manifest.json gives the layers. */
    layerNames: string[];
  }[];
  entries: SaveEntry[];
}

/** Options of {@link buildDockerSave}. */
export interface SaveOptions {
  form?: 'legacy' | 'oci';
  compression?: 'none' | 'gzip' | 'zstd';
  /** Where manifest.json goes: last (as `docker save` does) or first. */
  manifest?: 'last' | 'first';
  /** Changes the entries before they are packed (drop, add, alter). */
  tamper?: (entries: SaveEntry[]) => SaveEntry[];
}

/** A `docker save` archive of `images`. */
export async function buildDockerSave(images: readonly SaveImage[], options: SaveOptions = {}): Promise<BuiltSave> {
  const form = options.form ?? 'legacy';
  const entries: SaveEntry[] = [];
  const written = new Map<string, string>(); // stored-bytes digest → first name
  const ids = new Set<string>();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const built: BuiltSave['images'] = [];
  for (const image of images) {
    const raws = await Promise.all(image.layers.map((files) => tarOf(files)));
    const diffIds = raws.map((raw) => sha256(raw));
    const layerBytes = raws.map((raw, i) => ((image.gzipLayers ?? []).includes(i) ? gzipSync(raw) : raw));
    const platform = image.platform ?? { os: 'linux', architecture: 'amd64' };
    const config = Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Env: ['PATH=/usr/bin:/bin'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: diffIds.map((_, i) => ({ created_by: `layer ${i}` })),
      }),
    );
    const configDigest = sha256(config);
    const configName = form === 'oci' ? `blobs/sha256/${hex(configDigest)}` : `${hex(configDigest)}.json`;
    const layerNames: string[] = [];
    let parent = '';
    for (const [i, bytes] of layerBytes.entries()) {
      const digest = sha256(bytes);
      if (form === 'oci') {
        const name = `blobs/sha256/${hex(digest)}`;
        if (!written.has(digest)) {
          written.set(digest, name);
          entries.push({ name, data: bytes });
        }
        layerNames.push(name);
        continue;
      }
      // Legacy v1 ids chain on the parent id, so a repeated layer gets a new directory.
      const id = createHash('sha256').update(`${parent}\n${digest}\n${i}`).digest('hex');
      parent = id;
      const name = `${id}/layer.tar`;
      layerNames.push(name);
      if (ids.has(id)) continue; // the same chain in another image: Docker writes the directory once
      ids.add(id);
      entries.push({ name: `${id}/`, type: 'directory' });
      entries.push({ name: `${id}/VERSION`, data: Buffer.from('1.0') });
      entries.push({ name: `${id}/json`, data: Buffer.from(JSON.stringify({ id })) });
      const first = written.get(digest);
      if (first === undefined) {
        written.set(digest, name);
        entries.push({ name, data: bytes });
      } else {
        entries.push({ name, type: 'symlink', linkname: `../${first}` });
      }
    }
    entries.push({ name: configName, data: config });
    manifest.push({ Config: configName, RepoTags: image.repoTags ?? null, Layers: layerNames });
    built.push({ configDigest, diffIds, layerDigests: layerBytes.map((b) => sha256(b)), layerBytes, layerNames });
  }
  const manifestEntry: SaveEntry = { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) };
  let all = options.manifest === 'first' ? [manifestEntry, ...entries] : [...entries, manifestEntry];
  if (form === 'legacy') all.push({ name: 'repositories', data: Buffer.from('{}') });
  if (options.tamper) all = options.tamper(all);
  const outer = await packEntries(all);
  const compression = options.compression ?? 'none';
  const bytes = compression === 'gzip' ? gzipSync(outer) : compression === 'zstd' ? zstdCompressSync(outer) : outer;
  return { bytes, tar: outer, images: built, entries: all };
}

/** A tar of `entries` (mtime 0, owner 0). */
export async function packEntries(entries: readonly SaveEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, type, mode: type === 'directory' ? 0o755 : 0o644, mtime: new Date(0), uid: 0, gid: 0 };
    if (type === 'symlink') pack.entry({ ...header, linkname: e.linkname ?? '' });
    else if (type === 'directory') pack.entry(header);
    else pack.entry(header, e.data ?? Buffer.alloc(0));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

function hex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/**
 * Builds small container images in a test, as an OCI image layout directory (`oci-layout`,
 * `index.json`, `blobs/sha256/…`) that `skopeo copy oci:DIR:TAG docker://…` can push.
 *
 *   const layout = await OciLayoutBuilder.create(dir);
 *   const base = await layout.addLayer([{ path: 'etc/os-release', content: 'ID=test\n' }]);
 *   const amd64 = await layout.addImage({ layers: [base], platform: { os: 'linux', architecture: 'amd64' } });
 *   const arm64 = await layout.addImage({ layers: [base], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
 *   const index = await layout.addIndex([amd64, arm64, await layout.addAttestation(amd64)]);
 *   await layout.tag('multi', index);   // then pushImage(dir, 'multi', …, { all: true })
 *
 * Layers are real tar streams (tar-stream) compressed with gzip or zstd (node:zlib); configs carry
 * `rootfs.diff_ids` (sha256 of each uncompressed tar); every blob is content-addressed.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Digest } from '../../src/oci/digest.ts';
import type { Descriptor, Platform } from '../../src/registry/parse-manifest.ts';

/** One entry of a generated layer. Directories and symlinks have no content. */
export interface LayerFile {
  path: string;
  content?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
  mode?: number;
}

/** How a layer is compressed (and so its media type). */
export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** A layer written to the layout: its descriptor plus the uncompressed digest and the bytes. */
export interface BuiltLayer extends Descriptor {
  diffId: Digest;
  bytes: Buffer;
}

/** A manifest written to the layout, with the bytes and the platform it is for. */
export interface BuiltManifest extends Descriptor {
  bytes: Buffer;
  /** The config blob (images only). */
  config?: Descriptor & { bytes: Buffer };
  layers?: BuiltLayer[];
}

const LAYER_TYPES: Record<LayerCompression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

/** sha256 digest of bytes. */
export function sha256(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A tar archive of `files` (mtime 0, uid/gid 0), uncompressed. */
export async function tarOf(files: readonly LayerFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const f of files) {
    const type = f.type ?? 'file';
    const header = { name: f.path, type, mode: f.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: new Date(0), uid: 0, gid: 0 };
    if (type === 'symlink') pack.entry({ ...header, linkname: f.linkname ?? '' });
    else if (type === 'directory') pack.entry(header);
    else pack.entry(header, typeof f.content === 'string' ? Buffer.from(f.content) : (f.content ?? Buffer.alloc(0)));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Writes an OCI image layout into a directory, blob by blob. */
export class OciLayoutBuilder {
  readonly dir: string;
  private readonly refs: Array<Descriptor & { annotations: Record<string, string> }> = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Starts a layout in `dir` (created if needed). */
  static async create(dir: string): Promise<OciLayoutBuilder> {
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const builder = new OciLayoutBuilder(dir);
    await builder.writeIndex();
    return builder;
  }

  /** Stores `bytes` as a blob; returns its descriptor. */
  async writeBlob(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    await writeFile(path.join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** A layer of `files`, compressed with gzip (default), zstd or nothing. */
  async addLayer(files: readonly LayerFile[], options: { compression?: LayerCompression } = {}): Promise<BuiltLayer> {
    const compression = options.compression ?? 'gzip';
    const raw = await tarOf(files);
    const bytes = compression === 'gzip' ? gzipSync(raw) : compression === 'zstd' ? zstdCompressSync(raw) : raw;
    const descriptor = await this.writeBlob(bytes, LAYER_TYPES[compression]);
    return { ...descriptor, diffId: sha256(raw), bytes };
  }

  /**
   * An image: config (with `rootfs.diff_ids`, the platform and `extraConfig` merged in) and manifest.
   * The returned descriptor carries `platform` for use in an index.
   */
  async addImage(options: {
    layers: readonly BuiltLayer[];
    platform: Platform;
    extraConfig?: Record<string, unknown>;
    annotations?: Record<string, string>;
  }): Promise<BuiltManifest> {
    const p = options.platform;
    const configJson = {
      created: '2024-01-01T00:00:00Z',
      architecture: p.architecture,
      os: p.os,
      ...(p.variant !== undefined ? { variant: p.variant } : {}),
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: options.layers.map((l) => l.diffId) },
      history: options.layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
      ...options.extraConfig,
    };
    const configBytes = Buffer.from(JSON.stringify(configJson));
    const config = await this.writeBlob(configBytes, 'application/vnd.oci.image.config.v1+json');
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: options.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const descriptor = await this.writeBlob(bytes, 'application/vnd.oci.image.manifest.v1+json');
    return { ...descriptor, platform: p, bytes, config: { ...config, bytes: configBytes }, layers: [...options.layers] };
  }

  /**
   * A BuildKit-style attestation manifest for `subject` (in-toto layer, index entry with platform
   * `unknown/unknown` and `vnd.docker.reference.type: attestation-manifest`).
   */
  async addAttestation(subject: Descriptor): Promise<BuiltManifest> {
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://spdx.dev/Document', subject: [{ name: '_', digest: { sha256: subject.digest.slice(7) } }], predicate: {} }));
    const layer = await this.writeBlob(statement, 'application/vnd.in-toto+json');
    const configBytes = Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
    const config = await this.writeBlob(configBytes, 'application/vnd.oci.image.config.v1+json');
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: [{ ...layer, annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' } }],
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const descriptor = await this.writeBlob(bytes, 'application/vnd.oci.image.manifest.v1+json');
    return {
      ...descriptor,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject.digest },
      bytes,
    };
  }

  /** An artifact manifest (OCI 1.1 style: `artifactType`, empty config) with one blob of `content`. */
  async addArtifact(options: { artifactType: string; content: string; layerMediaType: string; configMediaType?: string }): Promise<BuiltManifest> {
    const empty = options.configMediaType === undefined;
    const configBytes = Buffer.from(empty ? '{}' : JSON.stringify({ name: 'chart', version: '1.0.0' }));
    const config = await this.writeBlob(configBytes, options.configMediaType ?? 'application/vnd.oci.empty.v1+json');
    const layer = await this.writeBlob(Buffer.from(options.content), options.layerMediaType);
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...(empty ? { artifactType: options.artifactType } : {}),
      config,
      layers: [layer],
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const descriptor = await this.writeBlob(bytes, 'application/vnd.oci.image.manifest.v1+json');
    return { ...descriptor, ...(empty ? { artifactType: options.artifactType } : {}), bytes };
  }

  /** An OCI index of `entries` (their platform, annotations and artifactType are kept). */
  async addIndex(entries: readonly Descriptor[]): Promise<BuiltManifest> {
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: entries.map((e) => ({
        mediaType: e.mediaType,
        digest: e.digest,
        size: e.size,
        ...(e.platform ? { platform: e.platform } : {}),
        ...(e.annotations ? { annotations: e.annotations } : {}),
        ...(e.artifactType ? { artifactType: e.artifactType } : {}),
      })),
    };
    const bytes = Buffer.from(JSON.stringify(index));
    const descriptor = await this.writeBlob(bytes, 'application/vnd.oci.image.index.v1+json');
    return { ...descriptor, bytes };
  }

  /** Names `descriptor` `tag` in the layout's `index.json` (`org.opencontainers.image.ref.name`). */
  async tag(tag: string, descriptor: Descriptor): Promise<void> {
    this.refs.push({ mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, annotations: { 'org.opencontainers.image.ref.name': tag } });
    await this.writeIndex();
  }

  private async writeIndex(): Promise<void> {
    await writeFile(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: this.refs }));
  }
}

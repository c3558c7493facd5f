/**
 * Images from an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as
 * `skopeo copy … oci:DIR:TAG`, `docker buildx --output type=oci` (extracted) or `crane` write them.
 * The tag is the `org.opencontainers.image.ref.name` annotation of an `index.json` entry (or
 * containerd's `io.containerd.image.name`). Nested indexes are followed; attestation manifests,
 * artifacts and platforms not asked for are skipped with the reason. Every blob read is checked
 * against its descriptor's size and digest (manifests and configs at once, layers as they
 * stream), and a blob whose path resolves outside the layout directory (a symlink) is refused.
 */
import { createReadStream } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { hasherFor, type Digest } from '../oci/digest.ts';
import { artifactReason, classifyIndexEntry } from '../registry/classify-index-entry.ts';
import { parseImageConfig, type ImageConfig } from '../registry/parse-image-config.ts';
import { parseManifest, type Descriptor, type ImageManifest, type Manifest, type Platform } from '../registry/parse-manifest.ts';
import { formatPlatform, platformMatches, type PlatformFilter } from '../registry/platform-filter.ts';
import type { SourceConfig, SourceImage } from './image-source.ts';
import { fileSystemError, ImageSourceError, quoteName } from './image-source-error.ts';
import type { LocalImageSet, SkippedManifest } from './open-image-argument.ts';
import { verifiedLayerStream } from './verified-layer-stream.ts';

/** Bounds on what opening a layout reads. */
export interface OciLayoutLimits {
  /** Largest `index.json`. */
  indexBytes: number;
  /** Largest manifest or nested index blob. */
  manifestBytes: number;
  /** Largest image config blob. */
  configBytes: number;
  /** Most manifests and indexes read in all. */
  manifests: number;
  /** Deepest index nesting followed below `index.json`. */
  indexDepth: number;
}

/** The default limits (those of the registry client for manifests and configs). */
export const DEFAULT_OCI_LAYOUT_LIMITS: Readonly<OciLayoutLimits> = Object.freeze({
  indexBytes: 4 * 1024 * 1024,
  manifestBytes: 4 * 1024 * 1024,
  configBytes: 4 * 1024 * 1024,
  manifests: 1024,
  indexDepth: 4,
});

/** What {@link openOciLayout} accepts. */
export interface OciLayoutOptions {
  /** The `org.opencontainers.image.ref.name` to open; without it the layout must hold one image (one name, or none). */
  tag?: string | null;
  /** Platforms to keep; every platform when absent. */
  platforms?: readonly PlatformFilter[];
  limits?: Partial<OciLayoutLimits>;
  signal?: AbortSignal;
}

/** An open OCI image layout. */
export interface OciLayout extends LocalImageSet {
  readonly dir: string;
  readonly tag: string | null;
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const ANY_PLATFORM: readonly PlatformFilter[] = Object.freeze([{ os: '*' }]);
const LAYOUT_FILE_BYTES = 64 * 1024;
/** Layers that may legitimately be absent from a layout (fetched from `urls`, never scanned). */
const FOREIGN = /foreign|nondistributable/;

/**
 * Opens the layout in `dir`, picks the entries of `index.json` for `tag` (or the only image),
 * follows indexes and returns one {@link SourceImage} per platform image, manifests and configs
 * verified and every layer blob checked to exist inside the layout with its size. Throws one
 * {@link ImageSourceError} for anything wrong: no such directory, no `oci-layout` or an
 * unsupported version, a bad `index.json`, manifest or config, a missing blob, a blob not matching
 * its digest or size, a blob outside the directory, no image for the tag or platforms, several
 * tagged images and no tag.
 */
export async function openOciLayout(dir: string, options: OciLayoutOptions = {}): Promise<OciLayout> {
  const limits: OciLayoutLimits = { ...DEFAULT_OCI_LAYOUT_LIMITS, ...options.limits };
  const tag = options.tag ?? null;
  const what = `OCI layout ${quoteName(dir)}`;
  const signal = options.signal;
  signal?.throwIfAborted();
  const info = await stat(dir).catch((error: unknown) => {
    throw fileSystemError(error, what);
  });
  if (!info.isDirectory()) throw new ImageSourceError('not_an_image', `${what} is not a directory`);
  const root = await realpath(dir);
  const layout = new Layout(root, what, limits);

  const marker = await layout.readFile('oci-layout', LAYOUT_FILE_BYTES);
  let version: unknown;
  try {
    version = (JSON.parse(marker.toString('utf8')) as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  } catch {
    throw new ImageSourceError('invalid', `${what}: oci-layout is not valid JSON`);
  }
  if (typeof version !== 'string' || !/^1\.[0-9]+\.[0-9]+$/.test(version)) {
    throw new ImageSourceError('unsupported', `${what} has image layout version ${quoteName(String(version), 40)}; only 1.x is read`);
  }

  const index = layout.parse(await layout.readFile('index.json', limits.indexBytes), null, 'index.json');
  if (index.kind !== 'index') throw new ImageSourceError('invalid', `${what}: index.json is not an image index`);
  const selected = selectEntries(index.manifests, tag, what);

  const walk = new Walk(layout, options.platforms ?? ANY_PLATFORM, limits, signal);
  for (const entry of selected) await walk.visit(entry, 0);
  if (walk.images.length === 0) {
    const why = walk.skipped.length === 0 ? 'it lists no manifest' : `skipped: ${walk.skipped.slice(0, 5).map((s) => `${s.digest} (${s.detail})`).join(', ')}`;
    throw new ImageSourceError('no_match', `${what}${tag === null ? '' : ` tag ${quoteName(tag, 100)}`} holds no container image to scan; ${why}`);
  }
  return {
    description: tag === null ? what : `${what} tag ${quoteName(tag, 100)}`,
    dir,
    tag,
    images: walk.images,
    skipped: walk.skipped,
    close: async () => {},
  };
}

/** The `index.json` entries for `tag`, or all of them when they name at most one image. */
function selectEntries(entries: readonly Descriptor[], tag: string | null, what: string): Descriptor[] {
  const names = (e: Descriptor): string[] => [e.annotations?.[REF_NAME], e.annotations?.[CONTAINERD_NAME]].filter((n): n is string => n !== undefined);
  if (tag !== null) {
    const found = entries.filter((e) => names(e).includes(tag));
    if (found.length > 0) return found;
    const known = [...new Set(entries.flatMap((e) => (e.annotations?.[REF_NAME] === undefined ? [] : [e.annotations[REF_NAME]])))];
    const list = known.length === 0 ? 'it names no image' : `its names are ${known.slice(0, 10).map((n) => quoteName(n, 100)).join(', ')}${known.length > 10 ? ', …' : ''}`;
    throw new ImageSourceError('no_match', `${what} has no image named ${quoteName(tag, 100)}; ${list}`);
  }
  const refs = new Set(entries.flatMap((e) => (e.annotations?.[REF_NAME] === undefined ? [] : [e.annotations[REF_NAME]])));
  if (refs.size > 1) {
    const list = [...refs].slice(0, 10).map((n) => quoteName(n, 100)).join(', ');
    throw new ImageSourceError('ambiguous', `${what} holds several images (${list}${refs.size > 10 ? ', …' : ''}); choose one with oci:DIR:NAME`);
  }
  return [...entries];
}

/** Reading files and blobs of one layout, confined to its directory. */
class Layout {
  readonly root: string;
  readonly what: string;
  readonly limits: OciLayoutLimits;

  constructor(root: string, what: string, limits: OciLayoutLimits) {
    this.root = root;
    this.what = what;
    this.limits = limits;
  }

  /** A top-level file of the layout (`oci-layout`, `index.json`), at most `cap` bytes. */
  async readFile(name: string, cap: number): Promise<Buffer> {
    const resolved = await this.#resolve(path.join(this.root, name), name, () => new ImageSourceError('not_an_image', `${this.what} is not an OCI image layout: it has no ${name}`));
    const handle = await open(resolved, 'r').catch((error: unknown) => {
      throw fileSystemError(error, `${this.what}: ${name}`);
    });
    try {
      const { size } = await handle.stat();
      if (size > cap) throw new ImageSourceError('too_large', `${this.what}: ${name} of ${size} bytes is over the limit of ${cap}`);
      const data = Buffer.alloc(size);
      const { bytesRead } = await handle.read(data, 0, size, 0);
      return data.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  /** The real path of the blob for `digest`, checked to be a regular file inside the layout. */
  async blobPath(digest: Digest): Promise<string> {
    const [algorithm, hex] = digest.split(':') as [string, string];
    const resolved = await this.#resolve(path.join(this.root, 'blobs', algorithm, hex), `blob ${digest}`, () => new ImageSourceError('not_found', `${this.what}: blob ${digest} is missing`));
    const info = await stat(resolved);
    if (!info.isFile()) throw new ImageSourceError('invalid', `${this.what}: blob ${digest} is not a regular file`);
    return resolved;
  }

  /** Checks that the blob of `descriptor` exists with its size; returns its real path. */
  async checkBlob(descriptor: Descriptor, role: string): Promise<string> {
    const resolved = await this.blobPath(descriptor.digest);
    const { size } = await stat(resolved);
    if (size !== descriptor.size) throw sizeMismatch(this.what, role, descriptor, size);
    return resolved;
  }

  /** A small blob read whole (at most `cap` bytes) and verified against its descriptor. */
  async readBlob(descriptor: Descriptor, cap: number, role: string): Promise<Buffer> {
    if (descriptor.size > cap) {
      throw new ImageSourceError('too_large', `${this.what}: ${role} ${descriptor.digest} of ${descriptor.size} bytes is over the limit of ${cap}`);
    }
    const resolved = await this.blobPath(descriptor.digest);
    const handle = await open(resolved, 'r');
    try {
      const { size } = await handle.stat();
      if (size !== descriptor.size) throw sizeMismatch(this.what, role, descriptor, size);
      const data = Buffer.alloc(size);
      const { bytesRead } = await handle.read(data, 0, size, 0);
      if (bytesRead !== size) throw sizeMismatch(this.what, role, descriptor, bytesRead);
      const hasher = hasherFor(descriptor.digest);
      hasher.update(data);
      const actual = hasher.digest();
      if (actual !== descriptor.digest) throw new ImageSourceError('digest_mismatch', `${this.what}: ${role} blob ${descriptor.digest} hashes to ${actual}`);
      return data;
    } finally {
      await handle.close();
    }
  }

  /** A manifest or index, parsed and validated; errors become ImageSourceErrors. */
  parse(bytes: Buffer, mediaType: string | null, what: string): Manifest {
    try {
      return parseManifest(bytes, mediaType, what);
    } catch (error) {
      throw new ImageSourceError('invalid', `${this.what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  /** `candidate`'s real path, refused when it leaves the layout directory. */
  async #resolve(candidate: string, name: string, missing: () => ImageSourceError): Promise<string> {
    let resolved: string;
    try {
      resolved = await realpath(candidate);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT' || (error as { code?: unknown }).code === 'ENOTDIR') throw missing();
      throw fileSystemError(error, `${this.what}: ${name}`);
    }
    if (!resolved.startsWith(this.root + path.sep)) {
      throw new ImageSourceError('not_allowed', `${this.what}: ${name} resolves outside the layout directory`);
    }
    return resolved;
  }
}

/** The walk from the selected entries down to image manifests. */
class Walk {
  readonly images: SourceImage[] = [];
  readonly skipped: SkippedManifest[] = [];
  readonly #layout: Layout;
  readonly #filters: readonly PlatformFilter[];
  readonly #limits: OciLayoutLimits;
  readonly #signal: AbortSignal | undefined;
  readonly #seen = new Set<string>();

  constructor(layout: Layout, filters: readonly PlatformFilter[], limits: OciLayoutLimits, signal: AbortSignal | undefined) {
    this.#layout = layout;
    this.#filters = filters;
    this.#limits = limits;
    this.#signal = signal;
  }

  /** Visits an entry of an index nested `depth` levels below index.json (0 for index.json's own). */
  async visit(entry: Descriptor, depth: number): Promise<void> {
    this.#signal?.throwIfAborted();
    const decision = classifyIndexEntry(entry, this.#filters, depth, this.#limits.indexDepth);
    if (decision.action === 'skip') {
      this.skipped.push({ digest: entry.digest, reason: decision.reason, detail: decision.detail });
      return;
    }
    const key = `${entry.digest}|${entry.platform ? formatPlatform(entry.platform) : ''}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    if (this.#seen.size > this.#limits.manifests) {
      throw new ImageSourceError('too_large', `${this.#layout.what} refers to more than ${this.#limits.manifests} manifests`);
    }
    const layout = this.#layout;
    const bytes = await layout.readBlob(entry, this.#limits.manifestBytes, 'manifest');
    const manifest = layout.parse(bytes, entry.mediaType, `manifest ${entry.digest}`);
    if (manifest.kind === 'index') {
      for (const child of manifest.manifests) await this.visit(child, depth + 1);
      return;
    }
    const artifact = artifactReason(manifest);
    if (artifact !== null) {
      this.skipped.push({ digest: entry.digest, reason: 'artifact', detail: artifact });
      return;
    }
    await this.#addImage(entry, manifest);
  }

  async #addImage(entry: Descriptor, manifest: ImageManifest): Promise<void> {
    const layout = this.#layout;
    const configBytes = await layout.readBlob(manifest.config, this.#limits.configBytes, 'config');
    let config: ImageConfig;
    try {
      config = parseImageConfig(configBytes, `config ${manifest.config.digest}`);
    } catch (error) {
      throw new ImageSourceError('invalid', `${layout.what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const platform: Platform = entry.platform ?? { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    if (platform.os === 'unknown' && platform.architecture === 'unknown') {
      this.skipped.push({ digest: entry.digest, reason: 'attestation-manifest', detail: 'platform unknown/unknown' });
      return;
    }
    if (entry.platform === undefined && !platformMatches(platform, this.#filters)) {
      this.skipped.push({ digest: entry.digest, reason: 'platform-not-requested', detail: `platform ${formatPlatform(platform)}` });
      return;
    }
    const paths: (string | null)[] = [];
    for (const [i, layer] of manifest.layers.entries()) {
      paths.push(FOREIGN.test(layer.mediaType) ? null : await layout.checkBlob(layer, `layer ${i}`));
    }
    const sourceConfig: SourceConfig = {
      digest: manifest.config.digest,
      os: config.os,
      architecture: config.architecture,
      variant: config.variant ?? null,
      diffIds: config.diffIds,
    };
    const manifestDigest = entry.digest;
    this.images.push({
      digest: manifestDigest,
      mediaType: manifest.mediaType,
      platform: { os: platform.os, architecture: platform.architecture, ...(platform.variant ? { variant: platform.variant } : {}) },
      layers: manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
      config: async () => sourceConfig,
      async openLayer(index: number, signal?: AbortSignal): Promise<Readable> {
        const layer = manifest.layers[index];
        if (layer === undefined) throw new RangeError(`layer ${index} of ${manifestDigest} does not exist`);
        signal?.throwIfAborted();
        const file = paths[index] ?? (await layout.checkBlob(layer, `layer ${index}`));
        const body = createReadStream(file, { highWaterMark: 256 * 1024, ...(signal ? { signal } : {}) });
        return verifiedLayerStream(body as AsyncIterable<Buffer>, { digest: layer.digest, size: layer.size }, `layer ${index} (${layer.digest}) of ${layout.what}`, signal);
      },
    });
  }
}

function sizeMismatch(what: string, role: string, descriptor: Descriptor, size: number): ImageSourceError {
  return new ImageSourceError('digest_mismatch', `${what}: ${role} blob ${descriptor.digest} is ${size} bytes, its descriptor says ${descriptor.size}`);
}


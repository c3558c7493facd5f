/**
 * Images from a `docker save` archive: an outer tar (plain, gzip or zstd) holding `manifest.json`
 * (`[{Config, RepoTags, Layers}]`), each image's config JSON and one tar per layer, either in the
 * legacy form (`<id>/layer.tar`, duplicates as symlinks to another `<id>/layer.tar`) or the OCI
 * form of Docker 25 and later (`blobs/sha256/<hex>`), in no particular order.
 *
 * Nothing is extracted to disk and no layer is ever held in memory:
 * - a plain tar is seekable: its headers are indexed first (one small read per entry), then each
 *   layer is read as a byte range of the file, in any order, at no extra cost;
 * - a compressed archive cannot be seeked: a first pass decompresses it once to read manifest.json
 *   and the configs (small, capped) and to learn where each entry is; reading a layer then
 *   decompresses the archive again from its start up to that layer. A pass that finished a layer
 *   is kept (up to two) and reused by the next read of a layer further on, so reading layers in
 *   archive order costs one pass in all, and random order up to one pass per layer.
 *   `openLayers()` reads an image's layers in archive order in a single pass: prefer it for
 *   compressed archives; `openLayer(i)` suits plain tars and callers that need a given layer.
 *
 * Identity: a `docker save` archive carries no manifest, so an image's `digest` is the digest of
 * its config (the image ID), and its media type is that of the Docker manifest a push would write.
 * A layer's `digest` is the digest of its bytes as stored: the name of a `blobs/<alg>/<hex>` entry,
 * the config's diff_id for an uncompressed legacy layer (the stored bytes are the uncompressed
 * tar), else a hash taken while indexing; every layer stream is verified against it as it is read.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import { hasherFor, isDigest, sha256Digest, type Digest } from '../oci/digest.ts';
import { describeZodError } from '../registry/describe-zod-error.ts';
import { DOCKER_MANIFEST } from '../registry/media-types.ts';
import { parseImageConfig } from '../registry/parse-image-config.ts';
import { formatPlatform, platformMatches, type PlatformFilter } from '../registry/platform-filter.ts';
import { normalizeEntryName, openEntryStore, type ArchiveEntry, type EntryStore, type FirstPassPolicy } from './archive-entry-store.ts';
import { sniffFormat, SNIFF_BYTES } from './decompress.ts';
import type { SourceConfig, SourceImage, SourceLayer } from './image-source.ts';
import { fileSystemError, ImageSourceError, quoteName } from './image-source-error.ts';
import type { LocalImageSet } from './open-image-argument.ts';
import { verifiedLayerStream } from './verified-layer-stream.ts';

/** Bounds on what opening a `docker save` archive reads and keeps. */
export interface DockerArchiveLimits {
  /** Largest manifest.json. */
  manifestBytes: number;
  /** Largest image config. */
  configBytes: number;
  /** Most entries in the outer archive. */
  entries: number;
  /** Most images in manifest.json. */
  images: number;
  /** Most layers per image. */
  layers: number;
  /** Small JSON entries a compressed archive's first pass keeps in memory, in all (configs among them). */
  keptBytes: number;
  /** Bytes of entry data in a compressed archive, in all (by their headers, before they are read): stops decompression bombs. */
  decompressedBytes: number;
}

/** The default limits: far above what `docker save` writes, low enough to bound memory. */
export const DEFAULT_DOCKER_ARCHIVE_LIMITS: Readonly<DockerArchiveLimits> = Object.freeze({
  manifestBytes: 1024 * 1024,
  configBytes: 4 * 1024 * 1024,
  entries: 100_000,
  images: 256,
  layers: 4096,
  keptBytes: 64 * 1024 * 1024,
  decompressedBytes: 256 * 1024 ** 3,
});

/** How the outer archive is stored. */
export type ArchiveCompression = 'none' | 'gzip' | 'zstd';

/** One image of a `docker save` archive. */
export interface DockerArchiveImage extends SourceImage {
  /** The image's `RepoTags` in manifest.json (may be empty). */
  readonly repoTags: readonly string[];
  /**
   * Each layer once, in archive order, in one pass over the archive. Read each stream to its end
   * (or destroy it) before asking for the next: a stream still unread then is drained (and its
   * errors dropped). A layer listed twice in the image is yielded for each index.
   */
  openLayers(signal?: AbortSignal): AsyncGenerator<{ index: number; stream: Readable }>;
}

/** An open `docker save` archive. */
export interface DockerArchive extends LocalImageSet {
  readonly path: string;
  readonly compression: ArchiveCompression;
  readonly images: readonly DockerArchiveImage[];
  /** Decompression passes over the archive started so far, the first one included (0 for a plain tar). */
  readonly passes: number;
}

/** What {@link openDockerArchive} accepts. */
export interface DockerArchiveOptions {
  /** Keep only the image with this repo tag (`alpine:3.11`, `docker.io/library/alpine:3.11`) or at `@N` in manifest.json. */
  reference?: string | null;
  /** Platforms to keep (from each image's config); every platform when absent. */
  platforms?: readonly PlatformFilter[];
  limits?: Partial<DockerArchiveLimits>;
  signal?: AbortSignal;
}

/**
 * Opens a `docker save` archive (plain tar, gzip or zstd) and reads manifest.json and the image
 * configs, verifying each config against its name when the name is a digest. Throws one
 * {@link ImageSourceError} for anything wrong with the file: missing, not a tar, truncated, a
 * corrupt stream, no or a bad manifest.json, a missing entry, a config over its limit or not
 * matching its name, no image for `reference`. Layers are not read until asked for (except, in a
 * plain tar, a compressed legacy layer, hashed once for its digest).
 */
export async function openDockerArchive(filePath: string, options: DockerArchiveOptions = {}): Promise<DockerArchive> {
  const limits: DockerArchiveLimits = { ...DEFAULT_DOCKER_ARCHIVE_LIMITS, ...options.limits };
  const what = `docker archive ${quoteName(filePath)}`;
  const signal = options.signal;
  signal?.throwIfAborted();
  const info = await stat(filePath).catch((error: unknown) => {
    throw fileSystemError(error, what);
  });
  if (!info.isFile()) throw new ImageSourceError('unreadable', `${what} is not a regular file`);
  const compression = await outerCompression(filePath, what);
  const store = await openEntryStore(filePath, info.size, compression, { entries: limits.entries, keptEntryBytes: limits.configBytes, keptBytes: limits.keptBytes, totalBytes: limits.decompressedBytes }, firstPassPolicy(limits, what), what, signal);
  try {
    signal?.throwIfAborted();
    const all = await readImages(store, limits, what, options.reference ?? null, signal);
    const filters = options.platforms;
    const images = filters === undefined ? all : all.filter((image) => image.platform !== null && platformMatches(image.platform, filters));
    const skipped = all
      .filter((image) => !images.includes(image))
      .map((image) => ({ digest: image.digest, reason: 'platform-not-requested', detail: `platform ${image.platform ? formatPlatform(image.platform) : 'unknown'}` }));
    if (images.length === 0) {
      throw new ImageSourceError('no_match', `${what} holds no image for the platforms asked for; ${[...new Set(skipped.map((s) => s.detail))].slice(0, 5).join(', ')}`);
    }
    return {
      description: what,
      path: filePath,
      compression,
      images,
      skipped,
      get passes() {
        return store.passes;
      },
      close: async () => store.close(),
    };
  } catch (error) {
    store.close();
    throw error;
  }
}

const MANIFEST_JSON = 'manifest.json';
const DIGEST_NAME = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;
const LEGACY_CONFIG_NAME = /^([a-f0-9]{64})\.json$/;
const LINK_HOPS = 8;

/**
 * What the first pass over a compressed archive keeps: manifest.json (refused over its limit before
 * it is read) and the small JSON entries, configs among them (`<hex>.json`, or a `blobs/` entry
 * starting with `{`). It hashes the compressed entries whose name is not their digest (legacy gzip
 * layers), so that their digest is known without another pass.
 */
function firstPassPolicy(limits: DockerArchiveLimits, what: string): FirstPassPolicy {
  return {
    admit: (name, size) => {
      if (name === MANIFEST_JSON && size > limits.manifestBytes) throw manifestTooLarge(what, size, limits);
    },
    keep: (name, head) => name.endsWith('.json') || (DIGEST_NAME.test(name) && head[0] === 0x7b),
    hash: (name, head) => !DIGEST_NAME.test(name) && formatOf(head) !== 'tar',
  };
}

const itemSchema = (limits: DockerArchiveLimits) =>
  z
    .array(
      z.object({
        Config: z.string().min(1).max(4096),
        RepoTags: z.array(z.string().max(1024)).max(1024).nullable().optional(),
        Layers: z.array(z.string().min(1).max(4096)).max(limits.layers),
      }),
    )
    .min(1, 'lists no image')
    .max(limits.images);

async function readImages(store: EntryStore, limits: DockerArchiveLimits, what: string, reference: string | null, signal?: AbortSignal): Promise<DockerArchiveImage[]> {
  const manifestEntry = store.entries.get(MANIFEST_JSON);
  if (manifestEntry === undefined) {
    if (store.entries.has('index.json') && store.entries.has('oci-layout')) {
      throw new ImageSourceError('unsupported', `${what} is an OCI image layout in a tar, without a manifest.json; extract it and use oci:DIR`);
    }
    throw new ImageSourceError('not_an_image', `${what} has no manifest.json: it is not a docker save archive`);
  }
  const manifestFile = resolveEntry(store, MANIFEST_JSON, what);
  if (manifestFile.size > limits.manifestBytes) throw manifestTooLarge(what, manifestFile.size, limits);
  const bytes = await store.readBytes(manifestFile, signal);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ImageSourceError('invalid', `${what}: manifest.json is not valid JSON`);
  }
  const parsed = itemSchema(limits).safeParse(json);
  if (!parsed.success) throw new ImageSourceError('invalid', `${what}: manifest.json is invalid: ${describeZodError(parsed.error)}`);
  const items = selectItems(parsed.data, reference, what);

  const images: DockerArchiveImage[] = [];
  for (const item of items) {
    signal?.throwIfAborted();
    images.push(await readImage(store, item, limits, what, signal));
  }
  return images;
}

type ManifestItem = { Config: string; RepoTags?: string[] | null | undefined; Layers: string[] };

function selectItems(items: ManifestItem[], reference: string | null, what: string): ManifestItem[] {
  if (reference === null) return items;
  const at = /^@([0-9]{1,6})$/.exec(reference);
  if (at !== null) {
    const item = items[Number(at[1])];
    if (item === undefined) throw new ImageSourceError('no_match', `${what} has ${items.length} image${items.length === 1 ? '' : 's'}; there is none at ${reference}`);
    return [item];
  }
  const wanted = normalizeTag(reference);
  const found = items.filter((item) => (item.RepoTags ?? []).some((tag) => normalizeTag(tag) === wanted));
  if (found.length === 0) {
    const tags = items.flatMap((item) => item.RepoTags ?? []);
    const known = tags.length === 0 ? 'it has no tagged image' : `its tags are ${tags.slice(0, 10).map((t) => quoteName(t, 100)).join(', ')}${tags.length > 10 ? ', …' : ''}`;
    throw new ImageSourceError('no_match', `${what} has no image tagged ${quoteName(reference, 100)}; ${known}`);
  }
  return found;
}

/** `docker.io/library/alpine:3` → `alpine:3`; no tag → `:latest`. */
function normalizeTag(tag: string): string {
  let t = tag.trim();
  if (t.startsWith('docker.io/')) t = t.slice('docker.io/'.length);
  if (t.startsWith('index.docker.io/')) t = t.slice('index.docker.io/'.length);
  if (t.startsWith('library/')) t = t.slice('library/'.length);
  const slash = t.lastIndexOf('/');
  if (!t.includes('@') && !t.slice(slash + 1).includes(':')) t = `${t}:latest`;
  return t;
}

async function readImage(store: EntryStore, item: ManifestItem, limits: DockerArchiveLimits, what: string, signal?: AbortSignal): Promise<DockerArchiveImage> {
  const configEntry = resolveEntry(store, item.Config, what);
  if (configEntry.size > limits.configBytes) {
    throw new ImageSourceError('too_large', `${what}: config ${quoteName(item.Config)} of ${configEntry.size} bytes is over the limit of ${limits.configBytes}`);
  }
  const configBytes = await store.readBytes(configEntry, signal);
  const named = digestFromName(normalizeEntryName(item.Config));
  const configDigest = named === null ? sha256Digest(configBytes) : hashOf(configBytes, named);
  if (named !== null && configDigest !== named) {
    throw new ImageSourceError('digest_mismatch', `${what}: config ${quoteName(item.Config)} hashes to ${configDigest}`);
  }
  let config;
  try {
    config = parseImageConfig(configBytes, `config ${item.Config}`);
  } catch (error) {
    throw new ImageSourceError('invalid', `${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (config.diffIds.length !== item.Layers.length) {
    throw new ImageSourceError('invalid', `${what}: config ${quoteName(item.Config)} lists ${config.diffIds.length} diff_ids for ${item.Layers.length} layers`);
  }

  const layerEntries: ArchiveEntry[] = [];
  const layers: SourceLayer[] = [];
  for (const [i, name] of item.Layers.entries()) {
    const entry = resolveEntry(store, name, what);
    const format = formatOf(await store.head(entry));
    const digest = digestFromName(entry.name) ?? (format === 'tar' ? config.diffIds[i]! : await store.digestOf(entry, signal));
    layerEntries.push(entry);
    layers.push({ digest, mediaType: LAYER_MEDIA_TYPES[format], size: entry.size });
  }

  const sourceConfig: SourceConfig = {
    digest: configDigest,
    os: config.os,
    architecture: config.architecture,
    variant: config.variant ?? null,
    diffIds: config.diffIds,
  };
  const describeLayer = (i: number): string => `layer ${i} (${quoteName(layerEntries[i]!.name)}) of ${what}`;
  const openLayer = async (index: number, layerSignal?: AbortSignal): Promise<Readable> => {
    const entry = layerEntries[index];
    const layer = layers[index];
    if (entry === undefined || layer === undefined) throw new RangeError(`layer ${index} of ${configDigest} does not exist`);
    const body = await store.open(entry, layerSignal);
    return verifiedLayerStream(body, { digest: layer.digest, size: layer.size ?? entry.size }, describeLayer(index), layerSignal);
  };

  return {
    digest: configDigest,
    mediaType: DOCKER_MANIFEST,
    platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
    layers,
    repoTags: item.RepoTags ?? [],
    config: async () => sourceConfig,
    openLayer,
    async *openLayers(layersSignal?: AbortSignal) {
      const unique = [...new Set(layerEntries)];
      const repeats: number[] = [];
      for await (const { entry, body } of store.inOrder(unique, layersSignal)) {
        const indexes = layerEntries.flatMap((e, i) => (e === entry ? [i] : []));
        const index = indexes[0]!;
        repeats.push(...indexes.slice(1));
        const layer = layers[index]!;
        const stream = verifiedLayerStream(body, { digest: layer.digest, size: layer.size ?? entry.size }, describeLayer(index), layersSignal);
        yield { index, stream };
        if (!stream.readableEnded && !stream.destroyed) {
          stream.on('error', () => {});
          stream.resume();
        }
        await finished(stream).catch(() => undefined);
      }
      for (const index of repeats) yield { index, stream: await openLayer(index, layersSignal) };
    },
  };
}

const LAYER_MEDIA_TYPES: Record<'tar' | 'gzip' | 'zstd' | 'other', string> = {
  tar: 'application/vnd.docker.image.rootfs.diff.tar',
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  other: 'application/octet-stream',
};

/** The storage format of an entry from its first bytes (xz and bzip2 are `other`). */
function formatOf(head: Buffer): 'tar' | 'gzip' | 'zstd' | 'other' {
  try {
    return sniffFormat(head);
  } catch {
    return 'other';
  }
}

/** The entry `name` (as manifest.json writes it) names, following symbolic and hard links. */
function resolveEntry(store: EntryStore, name: string, what: string): ArchiveEntry {
  let current = normalizeEntryName(name);
  for (let hop = 0; hop <= LINK_HOPS; hop++) {
    const entry = store.entries.get(current);
    if (entry === undefined) throw new ImageSourceError('invalid', `${what}: manifest.json names ${quoteName(name)}, which is not in the archive`);
    if (entry.type === 'file') return entry;
    if (entry.type === 'symlink' && entry.linkname !== null) {
      current = normalizeEntryName(entry.linkname.startsWith('/') ? entry.linkname : path.posix.join(path.posix.dirname(entry.name), entry.linkname));
    } else if (entry.type === 'link' && entry.linkname !== null) {
      current = normalizeEntryName(entry.linkname);
    } else {
      throw new ImageSourceError('invalid', `${what}: ${quoteName(name)} is not a file in the archive`);
    }
  }
  throw new ImageSourceError('invalid', `${what}: ${quoteName(name)} is a chain of more than ${LINK_HOPS} links`);
}

function digestFromName(name: string): Digest | null {
  const blob = DIGEST_NAME.exec(name);
  const candidate = blob !== null ? `${blob[1]}:${blob[2]}` : (() => {
    const legacy = LEGACY_CONFIG_NAME.exec(name);
    return legacy === null ? null : `sha256:${legacy[1]}`;
  })();
  return candidate !== null && isDigest(candidate) ? candidate : null;
}

function hashOf(bytes: Buffer, like: Digest): Digest {
  const hasher = hasherFor(like);
  hasher.update(bytes);
  return hasher.digest();
}

function manifestTooLarge(what: string, size: number, limits: DockerArchiveLimits): ImageSourceError {
  return new ImageSourceError('too_large', `${what}: manifest.json of ${size} bytes is over the limit of ${limits.manifestBytes}`);
}

/** The compression of the file from its first bytes. */
async function outerCompression(filePath: string, what: string): Promise<ArchiveCompression> {
  const handle = await open(filePath, 'r').catch((error: unknown) => {
    throw fileSystemError(error, what);
  });
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    if (bytesRead === 0) throw new ImageSourceError('not_an_image', `${what} is empty`);
    let format;
    try {
      format = sniffFormat(head.subarray(0, bytesRead));
    } catch {
      throw new ImageSourceError('unsupported', `${what} is xz- or bzip2-compressed; only plain, gzip and zstd archives are read (decompress it first)`);
    }
    return format === 'tar' ? 'none' : format;
  } finally {
    await handle.close();
  }
}

/**
 * What `lookout scan IMAGE` reads, from the one argument: a `docker save` archive
 * (`docker-archive:PATH[:REF|@N]`, or the path of a file), an OCI image layout (`oci:DIR[:NAME]`,
 * or a directory holding `oci-layout`), or else a registry reference (`docker://REF` forces one).
 */
import { stat } from 'node:fs/promises';
import type { Digest } from '../oci/digest.ts';
import type { PlatformFilter } from '../registry/platform-filter.ts';
import { openDockerArchive, type DockerArchiveLimits } from './docker-archive-source.ts';
import type { SourceImage } from './image-source.ts';
import { ImageSourceError, quoteName } from './image-source-error.ts';
import { openOciLayout, type OciLayoutLimits } from './oci-layout-source.ts';

/** A manifest a local source left out, and why (`attestation-manifest`, `artifact`, `platform-not-requested`, …). */
export interface SkippedManifest {
  digest: Digest;
  reason: string;
  detail: string;
}

/**
 * Images read from a local source, one per platform, ready for the indexer; what was left out and
 * why. `close()` releases what the source holds open between layer reads (idle decompression
 * passes); the images must not be read afterwards.
 */
export interface LocalImageSet {
  /** `docker archive "x.tar"`, `OCI layout "dir" tag "v1"`: names the source in messages. */
  readonly description: string;
  readonly images: readonly SourceImage[];
  readonly skipped: readonly SkippedManifest[];
  close(): Promise<void>;
}

/** The argument, classified. */
export type ImageArgument =
  | { kind: 'docker-archive'; path: string; reference: string | null }
  | { kind: 'oci-layout'; dir: string; tag: string | null }
  | { kind: 'registry'; reference: string };

/** What {@link openImageArgument} passes on to the local sources. */
export interface OpenImageOptions {
  /** Platforms to keep (every platform when absent). */
  platforms?: readonly PlatformFilter[];
  dockerArchiveLimits?: Partial<DockerArchiveLimits>;
  ociLayoutLimits?: Partial<OciLayoutLimits>;
  signal?: AbortSignal;
}

/** An opened local source, or the registry reference for the caller to resolve. */
export type OpenedImageArgument = { kind: 'local'; source: LocalImageSet } | { kind: 'registry'; reference: string };

const MAX_ARGUMENT_CHARS = 4096;
/** Transports of other tools that name local images, not read here. */
const OTHER_TRANSPORTS = /^(oci-archive|docker-daemon|containers-storage|dir|tarball|podman|registry):(?![0-9]+(\/|$))/;
/** What only a path looks like: a registry reference never starts with `/`, `.` or `~`, nor ends in an archive suffix. */
const PATH_LIKE = /^(\/|\.\.?(\/|$)|~\/)|\\|\.(tar|tgz|tar\.gz|tar\.zst|tzst)$/i;

/**
 * Classifies the argument, looking at the file system to tell paths from registry references:
 * - `docker-archive:PATH`, `docker-archive:PATH:REF` (a repo tag in the archive) or `…:@N`;
 * - `oci:DIR` or `oci:DIR:NAME` (the `org.opencontainers.image.ref.name`);
 * - `docker://REF`: a registry reference;
 * - an existing file: a docker archive; an existing directory with `oci-layout`: an OCI layout;
 * - anything else: a registry reference, unless it can only be a path (`./x`, `/x`, `x.tar`),
 *   which is then reported missing.
 * Since a path may hold `:`, the longest existing prefix before a `:` is taken as the path.
 * Throws an {@link ImageSourceError} for an empty or over-long argument, a path that does not
 * exist, a directory that is not a layout, and other tools' transports (`oci-archive:`, …).
 */
export async function parseImageArgument(argument: string): Promise<ImageArgument> {
  if (argument.length === 0) throw new ImageSourceError('invalid', 'the image argument is empty');
  if (argument.length > MAX_ARGUMENT_CHARS) throw new ImageSourceError('invalid', `the image argument is over ${MAX_ARGUMENT_CHARS} characters`);
  if (/[\0\r\n]/.test(argument)) throw new ImageSourceError('invalid', `the image argument ${quoteName(argument)} holds a control character`);

  if (argument.startsWith('docker-archive:')) {
    const rest = argument.slice('docker-archive:'.length);
    const split = await splitExisting(rest, 'file');
    if (split === null) throw new ImageSourceError('not_found', `docker archive ${quoteName(rest)} does not exist`);
    return { kind: 'docker-archive', path: split.path, reference: split.suffix };
  }
  if (argument.startsWith('oci:')) {
    const rest = argument.slice('oci:'.length);
    const split = await splitExisting(rest, 'directory');
    if (split === null) throw new ImageSourceError('not_found', `OCI layout directory ${quoteName(rest)} does not exist`);
    return { kind: 'oci-layout', dir: split.path, tag: split.suffix };
  }
  if (argument.startsWith('docker://')) {
    const reference = argument.slice('docker://'.length);
    if (reference === '') throw new ImageSourceError('invalid', 'docker:// names no image');
    return { kind: 'registry', reference };
  }
  const other = OTHER_TRANSPORTS.exec(argument);
  if (other !== null) {
    const hint = other[1] === 'oci-archive' ? '; extract the archive and use oci:DIR' : other[1] === 'docker-daemon' ? '; use docker save and docker-archive:PATH' : '';
    throw new ImageSourceError('unsupported', `images from ${other[1]}: are not read${hint}`);
  }

  const kind = await kindOf(argument);
  if (kind === 'file') return { kind: 'docker-archive', path: argument, reference: null };
  if (kind === 'directory') {
    if ((await kindOf(`${argument.replace(/\/+$/, '')}/oci-layout`)) === 'file') return { kind: 'oci-layout', dir: argument, tag: null };
    throw new ImageSourceError('not_an_image', `${quoteName(argument)} is a directory but not an OCI image layout (it has no oci-layout file)`);
  }
  if (kind === 'other') throw new ImageSourceError('unreadable', `${quoteName(argument)} is neither a file nor a directory`);
  if (PATH_LIKE.test(argument)) throw new ImageSourceError('not_found', `${quoteName(argument)} does not exist`);
  return { kind: 'registry', reference: argument };
}

/**
 * Parses the argument and opens a local source ({@link openDockerArchive}, {@link openOciLayout}),
 * or returns the registry reference untouched for the caller's registry client. Local sources
 * throw one {@link ImageSourceError} for bad input; call `close()` on the result when done.
 */
export async function openImageArgument(argument: string, options: OpenImageOptions = {}): Promise<OpenedImageArgument> {
  const parsed = await parseImageArgument(argument);
  const shared = { ...(options.platforms ? { platforms: options.platforms } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  switch (parsed.kind) {
    case 'registry':
      return { kind: 'registry', reference: parsed.reference };
    case 'docker-archive':
      return {
        kind: 'local',
        source: await openDockerArchive(parsed.path, { reference: parsed.reference, ...shared, ...(options.dockerArchiveLimits ? { limits: options.dockerArchiveLimits } : {}) }),
      };
    case 'oci-layout':
      return {
        kind: 'local',
        source: await openOciLayout(parsed.dir, { tag: parsed.tag, ...shared, ...(options.ociLayoutLimits ? { limits: options.ociLayoutLimits } : {}) }),
      };
  }
}

type PathKind = 'file' | 'directory' | 'other' | null;

async function kindOf(candidate: string): Promise<PathKind> {
  try {
    const info = await stat(candidate);
    return info.isFile() ? 'file' : info.isDirectory() ? 'directory' : 'other';
  } catch {
    return null;
  }
}

/**
 * `text` as `PATH` or `PATH:SUFFIX`, where PATH is the whole text when it exists, else the
 * longest prefix before a `:` that exists as `want`; null when none does.
 */
async function splitExisting(text: string, want: 'file' | 'directory'): Promise<{ path: string; suffix: string | null } | null> {
  if (text === '') return null;
  if ((await kindOf(text)) !== null) return { path: text, suffix: null };
  for (let at = text.lastIndexOf(':'); at > 0; at = text.lastIndexOf(':', at - 1)) {
    const suffix = text.slice(at + 1);
    if (suffix !== '' && (await kindOf(text.slice(0, at))) === want) return { path: text.slice(0, at), suffix };
  }
  return null;
}

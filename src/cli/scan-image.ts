import type { Lookout } from '../app/composition-root.ts';
import type { SourceImage } from '../indexer/image-source.ts';
import { openImageArgument } from '../indexer/open-image-argument.ts';
import { registryImageSource } from '../indexer/registry-image-source.ts';
import { parseImageReference } from '../registry/image-reference.ts';
import { REGISTRY_DEFAULTS } from '../registry/registry-config.ts';
import { RegistryClient } from '../registry/registry-client.ts';
import { isRegistryError } from '../registry/registry-error.ts';
import { parsePlatformFilter } from '../registry/platform-filter.ts';

/** One image of the argument, indexed: its manifest row and the source it came from. */
export interface ScannedImage {
  manifestId: number;
  image: SourceImage;
  failure: string | null;
}

export interface ScanProgress {
  (line: string): void;
}

/**
 * Opens what a `lookout scan` argument names (docker save archive, OCI layout, or a registry
 * reference: a configured registry with its credentials, any other anonymously), then indexes each
 * platform image with the service's indexer and layer cache, so a layer seen before is not read
 * again. Returns the indexed images in the source's order.
 */
export async function scanImage(lookout: Lookout, argument: string, options: { platforms?: string[]; progress?: ScanProgress; signal?: AbortSignal }): Promise<{ images: ScannedImage[]; reference: string; notes: string[] }> {
  const platforms = options.platforms?.map(parsePlatformFilter);
  const opened = await openImageArgument(argument, { ...(platforms ? { platforms } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  const notes: string[] = [];
  let images: SourceImage[];
  let close = async (): Promise<void> => undefined;
  if (opened.kind === 'local') {
    images = [...opened.source.images];
    for (const s of opened.source.skipped) notes.push(`skipped ${s.digest}: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
    close = () => opened.source.close();
  } else {
    const reference = parseImageReference(opened.reference, { defaultRegistry: 'docker.io', defaultNamespace: 'library' });
    let client: RegistryClient;
    let owned = false;
    try {
      client = lookout.registries.clientFor(reference);
    } catch (err) {
      if (!isRegistryError(err, 'not_allowed')) throw err;
      // Not a configured registry: the user named it on the command line, so it is read anonymously.
      const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(reference.registry);
      client = new RegistryClient({ name: reference.registry, url: `${loopback ? 'http' : 'https'}://${reference.registry}`, ...REGISTRY_DEFAULTS });
      owned = true;
    }
    const resolution = await client.resolve(reference.repository, reference.digest ?? reference.tag ?? 'latest', {
      ...(options.platforms && options.platforms.length > 0 ? { platforms: options.platforms } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for (const s of resolution.skipped) notes.push(`skipped ${s.digest}: ${s.reason} (${s.detail})`);
    images = resolution.images.map((i) => registryImageSource(client, reference.repository, i));
    if (owned) close = () => client.close();
  }
  try {
    if (images.length === 0) throw new ScanInputError(`${argument} holds no image to scan${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`);
    const scanned: ScannedImage[] = [];
    for (const image of images) {
      const manifestId = await lookout.images.upsertManifest({
        digest: image.digest,
        mediaType: image.mediaType,
        kind: 'image',
        size: null,
        platform: image.platform,
      });
      await lookout.images.setStatus(manifestId, 'indexing');
      const total = image.layers.length;
      const outcome = await lookout.indexer.index(manifestId, image, options.signal, (index, result) => {
        const bytes = result.bytes !== undefined ? ` ${(result.bytes / 1e6).toFixed(1)} MB` : '';
        options.progress?.(`layer ${index + 1}/${total} ${result.digest.slice(0, 19)} ${result.outcome}${bytes}${result.reason ? `: ${result.reason}` : ''}`);
      });
      await lookout.images.recordIndexed(manifestId, lookout.indexer.fingerprint, outcome.releaseHint, outcome.platform);
      await lookout.reports.refresh(manifestId);
      await lookout.images.setStatus(manifestId, outcome.failure ? 'failed' : 'done', outcome.failure);
      scanned.push({ manifestId, image, failure: outcome.failure });
    }
    return { images: scanned, reference: argument, notes };
  } finally {
    await close();
  }
}

/** A scan argument that names nothing scannable. */
export class ScanInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScanInputError';
  }
}

import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';
import type { ImageManifest, Platform } from '../registry/parse-manifest.ts';
import type { RegistryClient } from '../registry/registry-client.ts';
import type { SourceConfig, SourceImage } from './image-source.ts';

/** A {@link SourceImage} read from a registry through its client (verified manifests and blobs). */
export function registryImageSource(
  client: RegistryClient,
  repository: string,
  image: { digest: Digest; mediaType: string; platform: Platform | null; manifest: ImageManifest },
): SourceImage {
  return {
    digest: image.digest,
    mediaType: image.mediaType,
    platform: image.platform
      ? { os: image.platform.os, architecture: image.platform.architecture, ...(image.platform.variant ? { variant: image.platform.variant } : {}) }
      : null,
    layers: image.manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
    async config(signal?: AbortSignal): Promise<SourceConfig> {
      const fetched = await client.configBlob(repository, image.manifest.config, signal ? { signal } : {});
      return {
        digest: fetched.digest,
        os: fetched.config.os,
        architecture: fetched.config.architecture,
        variant: fetched.config.variant ?? null,
        diffIds: fetched.config.diffIds,
      };
    },
    async openLayer(index: number, signal?: AbortSignal): Promise<Readable> {
      const layer = image.manifest.layers[index];
      if (!layer) throw new RangeError(`layer ${index} of ${image.digest} does not exist`);
      return client.blob(repository, layer.digest, { size: layer.size, ...(signal ? { signal } : {}) });
    },
  };
}

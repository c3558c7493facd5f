import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.ts';

/** A layer as the manifest describes it. */
export interface SourceLayer {
  digest: Digest;
  mediaType: string;
  size: number | null;
}

/** The parts of an image config the indexer uses. */
export interface SourceConfig {
  digest: Digest;
  os: string | null;
  architecture: string | null;
  variant: string | null;
  /** Uncompressed layer digests, bottom first (may be empty when the config has none). */
  diffIds: Digest[];
}

/**
 * One single-platform image, wherever it comes from (a registry, a `docker save` archive, an OCI
 * layout directory): its manifest identity, its layers in order, and how to read config and layers.
 */
export interface SourceImage {
  /** The manifest digest (for a `docker save` archive, which has none, the config digest). */
  digest: Digest;
  mediaType: string;
  platform: { os: string; architecture: string; variant?: string } | null;
  layers: readonly SourceLayer[];
  config(signal?: AbortSignal): Promise<SourceConfig>;
  /** A stream of the layer blob, exactly as stored (compressed or not). */
  openLayer(index: number, signal?: AbortSignal): Promise<Readable>;
  /**
   * Optional: every layer once, in storage order, in one pass — for sources that can only be read
   * from the start (a compressed `docker save`). Each stream is read or destroyed before the next.
   */
  openLayers?(signal?: AbortSignal): AsyncGenerator<{ index: number; stream: Readable }>;
}

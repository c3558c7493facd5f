import { IMAGE_CONFIG_MEDIA_TYPES, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from './media-types.ts';
import type { Descriptor, ImageManifest } from './parse-manifest.ts';
import { formatPlatform, platformMatches, type PlatformFilter } from './platform-filter.ts';

/** Why an index entry (or a manifest) is not returned as an image to scan. */
export type SkipReason =
  | 'attestation-manifest' // BuildKit provenance/SBOM manifest (unknown/unknown + vnd.docker.reference.type)
  | 'artifact' // artifactType set, or a config that is not an image config (helm, cosign, SBOM…)
  | 'platform-not-requested'
  | 'unsupported-media-type'
  | 'nested-index-too-deep'
  | 'too-many-manifests';

/** What to do with one index entry: fetch it (a manifest or a nested index) or skip it, with why. */
export type EntryDecision = { action: 'fetch'; isIndex: boolean } | { action: 'skip'; reason: SkipReason; detail: string };

/**
 * Decides about an index entry from its descriptor alone: unknown media types, BuildKit attestation
 * manifests (`vnd.docker.reference.type: attestation-manifest`), artifacts (`artifactType`), nested
 * indexes beyond `maxIndexDepth`, and platforms outside `filters` are skipped; entries without a
 * platform are fetched (their config decides). `depth` is the nesting level of the entry's index.
 */
export function classifyIndexEntry(entry: Descriptor, filters: readonly PlatformFilter[], depth: number, maxIndexDepth: number): EntryDecision {
  if (!MANIFEST_MEDIA_TYPES.has(entry.mediaType)) return skip('unsupported-media-type', `media type ${entry.mediaType}`);
  if (entry.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') {
    return skip('attestation-manifest', `attestation for ${entry.annotations['vnd.docker.reference.digest'] ?? 'an image'}`);
  }
  if (entry.artifactType !== undefined) return skip('artifact', `artifactType ${entry.artifactType}`);
  const isIndex = INDEX_MEDIA_TYPES.has(entry.mediaType);
  if (isIndex) {
    return depth >= maxIndexDepth ? skip('nested-index-too-deep', `index nested more than ${maxIndexDepth} levels`) : { action: 'fetch', isIndex };
  }
  if (entry.platform !== undefined && !platformMatches(entry.platform, filters)) {
    return skip('platform-not-requested', `platform ${formatPlatform(entry.platform)}`);
  }
  return { action: 'fetch', isIndex };
}

/** Why an image manifest is an artifact rather than a container image, or null when it is an image. */
export function artifactReason(m: ImageManifest): string | null {
  if (m.artifactType !== undefined) return `artifactType ${m.artifactType}`;
  if (!IMAGE_CONFIG_MEDIA_TYPES.has(m.config.mediaType)) return `config media type ${m.config.mediaType}`;
  return null;
}

function skip(reason: SkipReason, detail: string): EntryDecision {
  return { action: 'skip', reason, detail };
}

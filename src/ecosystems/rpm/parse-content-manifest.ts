import { decodeText } from '../os-release/decode-text.ts';

/** Where Red Hat's build system leaves content manifests in an image. */
export const CONTENT_MANIFEST_GLOB = 'root/buildinfo/content_manifests/*.json';
/** The largest content manifest read; real ones are a few KB. */
export const MAX_CONTENT_MANIFEST_BYTES = 1024 * 1024;

/** What a Red Hat image content manifest says about where its RPMs came from. */
export interface ContentManifest {
  /** Pulp content sets (repository ids: `rhel-8-for-x86_64-baseos-rpms`), in file order, deduplicated. */
  contentSets: string[];
  /** `metadata.image_layer_index`: the layer of the image build that wrote the manifest, when given. */
  imageLayerIndex: number | null;
}

/**
 * Parses `root/buildinfo/content_manifests/<component>.json` (atomic-reactor's content manifest):
 * the `content_sets` array names the repositories the layer's RPMs were installed from, which Red
 * Hat feeds map to CPEs (`repository-to-cpe.json`) to pick the right product stream. Returns
 * `{ error }` for bytes that are not such a manifest, never throws; at most 1,000 content sets of up to 256
 * characters are kept.
 */
export function parseContentManifest(data: Uint8Array): { manifest: ContentManifest } | { error: string } {
  if (data.length > MAX_CONTENT_MANIFEST_BYTES) return { error: `content manifest of ${data.length} bytes is over the limit` };
  let json: unknown;
  try {
    json = JSON.parse(decodeText(data).text);
  } catch (error) {
    return { error: `content manifest is not JSON: ${(error as Error).message}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { error: 'content manifest is not a JSON object' };
  const { content_sets: sets, metadata } = json as { content_sets?: unknown; metadata?: unknown };
  if (!Array.isArray(sets)) return { error: 'content manifest has no content_sets array' };
  const contentSets: string[] = [];
  for (const set of sets) {
    if (typeof set !== 'string' || set === '' || set.length > 256 || contentSets.includes(set)) continue;
    contentSets.push(set);
    if (contentSets.length >= 1000) break;
  }
  const index = (metadata as { image_layer_index?: unknown } | null | undefined)?.image_layer_index;
  return { manifest: { contentSets, imageLayerIndex: typeof index === 'number' && Number.isSafeInteger(index) ? index : null } };
}

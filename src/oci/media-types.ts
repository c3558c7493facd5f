/** Manifest media types Lookout resolves and scans. */
export const MEDIA_TYPE = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const MANIFEST_TYPES: ReadonlySet<string> = new Set(Object.values(MEDIA_TYPE));
const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerList]);

/** The media type without parameters, lowercased (`application/json; charset=utf-8` → `application/json`). */
export function bareMediaType(value: string | undefined | null): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

/** An image manifest or index type (what a push must carry to start work). */
export function isManifestMediaType(value: string | undefined | null): boolean {
  return MANIFEST_TYPES.has(bareMediaType(value));
}

/** An index / manifest list type. */
export function isIndexMediaType(value: string | undefined | null): boolean {
  return INDEX_TYPES.has(bareMediaType(value));
}

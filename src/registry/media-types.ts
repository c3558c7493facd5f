/** OCI image index (`manifests[]`, one entry per platform or artifact). */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** OCI image manifest (`config` + `layers[]`). */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Docker manifest list (the Docker form of an index). */
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker image manifest, schema 2. */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker schema 1 manifests: signed, removed from distribution 3; never accepted. */
export const DOCKER_MANIFEST_V1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_MANIFEST_V1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

/** OCI image configuration. */
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** Docker image configuration. */
export const DOCKER_IMAGE_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** The OCI "empty" descriptor's media type (artifacts without a real config). */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

/** The index media types, OCI and Docker. */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
/** The single-image manifest media types, OCI and Docker. */
export const IMAGE_MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
/** Every manifest media type this client fetches and parses. */
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([...INDEX_MEDIA_TYPES, ...IMAGE_MANIFEST_MEDIA_TYPES]);
/** Config media types that make a manifest a container image (anything else is an artifact). */
export const IMAGE_CONFIG_MEDIA_TYPES: ReadonlySet<string> = new Set([OCI_IMAGE_CONFIG, DOCKER_IMAGE_CONFIG]);

/**
 * The `Accept` header for manifest requests. Distribution answers 404 for OCI content when the OCI
 * types are missing (even with `*` / `*`), and swaps a Docker list for one child when the list type is missing.
 */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(', ');

/** A `Content-Type` value without its parameters, lower-cased (`application/json; charset=utf-8` → `application/json`). */
export function bareMediaType(value: string | undefined | null): string {
  if (!value) return '';
  return value.split(';', 1)[0]!.trim().toLowerCase();
}

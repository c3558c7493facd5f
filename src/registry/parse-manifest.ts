import { z } from 'zod';
import { isDigest, type Digest } from '../oci/digest.ts';
import { describeZodError } from './describe-zod-error.ts';
import {
  bareMediaType,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_MANIFEST_V1,
  DOCKER_MANIFEST_V1_SIGNED,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.ts';
import { RegistryError } from './registry-error.ts';

/** An image platform as written in an index entry (OCI field names, `os.version` → `osVersion`). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
  features?: string[];
}

/** A content descriptor: what a manifest says about a blob or a child manifest. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

/** A single-image manifest (OCI image manifest or Docker v2 schema 2). */
export interface ImageManifest {
  kind: 'image';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An index (OCI image index or Docker manifest list). */
export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A parsed and validated manifest of either kind. */
export type Manifest = ImageManifest | ImageIndex;

/** Most layers or index entries accepted in one manifest. */
const MAX_ENTRIES = 4096;

const shortString = z.string().max(1024);
const digest = z.string().refine(isDigest, 'not a valid sha256/sha512 digest') as unknown as z.ZodType<Digest>;
const annotations = z
  .record(z.string().max(1024), z.string().max(64 * 1024))
  .refine((a) => Object.keys(a).length <= 256, 'more than 256 annotations');

const platformSchema = z.object({
  os: shortString,
  architecture: shortString,
  variant: shortString.optional(),
  'os.version': shortString.optional(),
  'os.features': z.array(shortString).max(64).optional(),
  features: z.array(shortString).max(64).optional(),
});

const descriptorSchema = z.object({
  mediaType: shortString,
  digest,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  urls: z.array(z.string().max(4096)).max(64).optional(),
  annotations: annotations.optional(),
  platform: platformSchema.optional(),
  artifactType: shortString.optional(),
});

const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: shortString.optional(),
  artifactType: shortString.optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(MAX_ENTRIES),
  subject: descriptorSchema.optional(),
  annotations: annotations.optional(),
});

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: shortString.optional(),
  artifactType: shortString.optional(),
  manifests: z.array(descriptorSchema).max(MAX_ENTRIES),
  subject: descriptorSchema.optional(),
  annotations: annotations.optional(),
});

type RawDescriptor = z.infer<typeof descriptorSchema>;

/**
 * Parses a manifest body. The media type comes from the body's `mediaType`, else from the
 * response's `Content-Type`, else from the shape (`manifests` → OCI index, `config` → OCI manifest);
 * a body type that contradicts a manifest `Content-Type` is refused. Throws a {@link RegistryError}:
 * `invalid_manifest` for bad JSON or a schema violation (the message lists the first problems),
 * `unsupported` for schema 1 and unknown media types. `what` names the manifest in messages.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined | null, what = 'manifest'): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new RegistryError('invalid_manifest', `${what} is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RegistryError('invalid_manifest', `${what} is not a JSON object`);
  }
  const body = json as Record<string, unknown>;
  const header = bareMediaType(contentType);
  const declared = typeof body.mediaType === 'string' ? body.mediaType : null;
  if (
    body.schemaVersion === 1 ||
    [declared, header].some((t) => t === DOCKER_MANIFEST_V1 || t === DOCKER_MANIFEST_V1_SIGNED)
  ) {
    throw new RegistryError('unsupported', `${what} is a Docker schema 1 manifest, which is not supported`);
  }
  if (declared !== null && MANIFEST_MEDIA_TYPES.has(header) && declared !== header) {
    throw new RegistryError('invalid_manifest', `${what} says mediaType ${declared} but was served as ${header}`);
  }
  const mediaType = declared ?? (MANIFEST_MEDIA_TYPES.has(header) ? header : 'manifests' in body ? OCI_INDEX : 'config' in body ? OCI_MANIFEST : header);
  if (!MANIFEST_MEDIA_TYPES.has(mediaType)) {
    throw new RegistryError('unsupported', `${what} has unsupported media type ${JSON.stringify(mediaType.slice(0, 100))}`);
  }

  if (INDEX_MEDIA_TYPES.has(mediaType)) {
    const parsed = indexSchema.safeParse(body);
    if (!parsed.success) throw invalid(what, parsed.error);
    const v = parsed.data;
    if (mediaType === DOCKER_MANIFEST_LIST && v.manifests.some((m) => m.platform === undefined)) {
      throw new RegistryError('invalid_manifest', `${what}: a Docker manifest list entry has no platform`);
    }
    return withOptional({ kind: 'index', mediaType, manifests: v.manifests.map(toDescriptor) }, v);
  }
  const parsed = imageManifestSchema.safeParse(body);
  if (!parsed.success) throw invalid(what, parsed.error);
  const v = parsed.data;
  if (mediaType === DOCKER_MANIFEST && declared === null && header !== DOCKER_MANIFEST) {
    throw new RegistryError('invalid_manifest', `${what}: a Docker manifest must declare its mediaType`);
  }
  return withOptional({ kind: 'image', mediaType, config: toDescriptor(v.config), layers: v.layers.map(toDescriptor) }, v);
}

function withOptional<T extends Manifest>(
  out: T,
  v: { artifactType?: string | undefined; subject?: RawDescriptor | undefined; annotations?: Record<string, string> | undefined },
): T {
  if (v.artifactType !== undefined) out.artifactType = v.artifactType;
  if (v.subject !== undefined) out.subject = toDescriptor(v.subject);
  if (v.annotations !== undefined) out.annotations = v.annotations;
  return out;
}

function toDescriptor(d: RawDescriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls !== undefined) out.urls = d.urls;
  if (d.annotations !== undefined) out.annotations = d.annotations;
  if (d.artifactType !== undefined) out.artifactType = d.artifactType;
  if (d.platform !== undefined) {
    const p = d.platform;
    const platform: Platform = { os: p.os, architecture: p.architecture };
    if (p.variant !== undefined) platform.variant = p.variant;
    if (p['os.version'] !== undefined) platform.osVersion = p['os.version'];
    if (p['os.features'] !== undefined) platform.osFeatures = p['os.features'];
    if (p.features !== undefined) platform.features = p.features;
    out.platform = platform;
  }
  return out;
}

function invalid(what: string, error: z.ZodError): RegistryError {
  return new RegistryError('invalid_manifest', `${what} is invalid: ${describeZodError(error)}`);
}

import { z } from 'zod';
import { isDigest, type Digest } from '../oci/digest.ts';
import { describeZodError } from './describe-zod-error.ts';
import { RegistryError } from './registry-error.ts';

/** One `history` entry of an image config. */
export interface ImageHistoryEntry {
  created?: string;
  createdBy?: string;
  comment?: string;
  emptyLayer: boolean;
}

/** The parts of an image configuration (OCI or Docker) a scanner uses. */
export interface ImageConfig {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  created?: string;
  /** Uncompressed layer digests, bottom layer first; `diffIds[i]` belongs to `layers[i]`. */
  diffIds: Digest[];
  history: ImageHistoryEntry[];
  /** Environment, entrypoint, labels…: the runtime `config` object, unvalidated beyond its type. */
  runtime: Record<string, unknown>;
}

const s = z.string().max(64 * 1024);
const digest = z.string().refine(isDigest, 'not a valid sha256/sha512 digest') as unknown as z.ZodType<Digest>;

const schema = z.object({
  os: z.string().max(256),
  architecture: z.string().max(256),
  variant: z.string().max(256).optional(),
  'os.version': z.string().max(256).optional(),
  created: s.optional(),
  config: z.record(z.string(), z.unknown()).nullable().optional(),
  rootfs: z.object({
    type: z.literal('layers'),
    diff_ids: z.array(digest).max(4096),
  }),
  history: z
    .array(
      z.object({
        created: s.optional(),
        created_by: s.optional(),
        comment: s.optional(),
        empty_layer: z.boolean().optional(),
      }),
    )
    .max(8192)
    .optional(),
});

/**
 * Parses an image config blob (already digest-verified) into {@link ImageConfig}. Throws a
 * {@link RegistryError} `invalid_manifest` for bad JSON or a missing/invalid `os`,
 * `architecture` or `rootfs.diff_ids`. `what` names the blob in messages.
 */
export function parseImageConfig(bytes: Uint8Array, what = 'image config'): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new RegistryError('invalid_manifest', `${what} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new RegistryError('invalid_manifest', `${what} is invalid: ${describeZodError(parsed.error)}`);
  const v = parsed.data;
  const out: ImageConfig = {
    os: v.os,
    architecture: v.architecture,
    diffIds: v.rootfs.diff_ids,
    history: (v.history ?? []).map((h) => {
      const entry: ImageHistoryEntry = { emptyLayer: h.empty_layer === true };
      if (h.created !== undefined) entry.created = h.created;
      if (h.created_by !== undefined) entry.createdBy = h.created_by;
      if (h.comment !== undefined) entry.comment = h.comment;
      return entry;
    }),
    runtime: v.config ?? {},
  };
  if (v.variant !== undefined) out.variant = v.variant;
  if (v['os.version'] !== undefined) out.osVersion = v['os.version'];
  if (v.created !== undefined) out.created = v.created;
  return out;
}

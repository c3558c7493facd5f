import { z } from 'zod';
import { BadRequestError } from '../errors/app-error.ts';
import { isDigest } from '../oci/digest.ts';
import { bareMediaType, MANIFEST_MEDIA_TYPES } from '../registry/media-types.ts';
import { zodProblems } from './zod-problems.ts';
import type { RegistryEvent } from './registry-event.ts';

const event = z.looseObject({
  id: z.string().min(1).max(200),
  action: z.string().min(1).max(50),
  timestamp: z.string().optional(),
  target: z
    .looseObject({
      mediaType: z.string().max(255).optional(),
      digest: z.string().max(200).optional(),
      repository: z.string().max(512).optional(),
      tag: z.string().max(128).optional(),
      size: z.number().optional(),
    })
    .optional(),
});

const envelope = z.looseObject({ events: z.array(event).max(1000) });

/**
 * Parses a Docker Distribution notification envelope (`events.v1+json` from 2.x, `events.v2+json`
 * from 3.x: the same JSON). Every event is returned; only manifest pushes and deletes are actionable.
 * Throws {@link BadRequestError} naming the first problems for a body that is not an envelope.
 */
export function parseDistributionEnvelope(body: unknown): RegistryEvent[] {
  const parsed = envelope.safeParse(body);
  if (!parsed.success) throw new BadRequestError(`not a notification envelope: ${zodProblems(parsed.error)}`, { code: 'invalid_event' });
  return parsed.data.events.map((e) => {
    const target = e.target ?? {};
    const digest = target.digest && isDigest(target.digest) ? target.digest : null;
    const base = {
      source: 'distribution' as const,
      eventId: e.id,
      action: e.action,
      repository: target.repository ?? null,
      tag: target.tag ?? null,
      digest,
      mediaType: target.mediaType ?? null,
      tags: target.tag ? [target.tag] : [],
      raw: e,
    };
    const why = ignoredBecause(e.action, target.mediaType, base.repository, digest, base.tag);
    return { ...base, actionable: why === null, ignoredBecause: why };
  });
}

function ignoredBecause(action: string, mediaType: string | undefined, repository: string | null, digest: string | null, tag: string | null): string | null {
  if (repository === null) return 'no repository';
  if (action === 'push') {
    if (!MANIFEST_MEDIA_TYPES.has(bareMediaType(mediaType))) return mediaType === 'application/octet-stream' ? 'blob push' : `not an image manifest (${mediaType ?? 'no media type'})`;
    return digest === null ? 'push without a valid digest' : null;
  }
  if (action === 'delete') return digest === null && tag === null ? 'delete without digest or tag' : null;
  return action;
}

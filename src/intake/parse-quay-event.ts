import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BadRequestError } from '../errors/app-error.ts';
import { zodProblems } from './zod-problems.ts';
import type { RegistryEvent } from './registry-event.ts';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const repoPush = z.looseObject({
  repository: z.string().min(1).max(512),
  updated_tags: z.array(z.string().regex(TAG, 'not a valid tag')).max(1000).default([]),
});

/**
 * Parses a Quay `repo_push` notification: a repository and the tags it updated, no digest (each tag
 * is resolved with a HEAD later). Quay sends no event id and may legitimately send the same body for
 * a tag that moved, so each delivery gets its own id (processing is idempotent by digest anyway).
 */
export function parseQuayEvent(body: unknown): RegistryEvent[] {
  const parsed = repoPush.safeParse(body);
  if (!parsed.success) throw new BadRequestError(`not a Quay repo_push notification: ${zodProblems(parsed.error)}`, { code: 'invalid_event' });
  const { repository, updated_tags: tags } = parsed.data;
  return [
    {
      source: 'quay',
      eventId: randomUUID(),
      action: 'push',
      repository,
      tag: tags[0] ?? null,
      digest: null,
      mediaType: null,
      tags,
      actionable: tags.length > 0,
      ignoredBecause: tags.length > 0 ? null : 'no updated tags',
      raw: body,
    },
  ];
}

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BadRequestError } from '../errors/app-error.ts';
import { isDigest } from '../oci/digest.ts';
import { zodProblems } from './zod-problems.ts';
import type { RegistryEvent } from './registry-event.ts';

const resource = z.looseObject({
  digest: z.string().max(200).optional(),
  tag: z.string().max(200).optional(),
});
const eventData = z.looseObject({
  resources: z.array(resource).max(1000).default([]),
  repository: z.looseObject({
    repo_full_name: z.string().min(1).max(512).optional(),
    namespace: z.string().max(255).optional(),
    name: z.string().max(255).optional(),
  }),
});
const defaultFormat = z.looseObject({ type: z.string().min(1), occur_at: z.number().optional(), event_data: eventData });
const cloudEvent = z.looseObject({ specversion: z.string(), id: z.string().min(1).max(200), type: z.string().min(1), data: eventData });

const ACTIONS: Record<string, string> = {
  PUSH_ARTIFACT: 'push',
  DELETE_ARTIFACT: 'delete',
  PULL_ARTIFACT: 'pull',
  'harbor.artifact.pushed': 'push',
  'harbor.artifact.deleted': 'delete',
  'harbor.artifact.pulled': 'pull',
};

/**
 * Parses a Harbor webhook, in the Default format (`{type, occur_at, event_data}`) or as a
 * CloudEvent (`{specversion, id, type, data}`). One event per resource; `PUSH_ARTIFACT` and
 * `DELETE_ARTIFACT` are actionable. The Default format has no id: the body's hash is the dedupe key
 * (Harbor re-sends the same body when it retries).
 */
export function parseHarborEvent(body: unknown): RegistryEvent[] {
  let id: string;
  let type: string;
  let data: z.infer<typeof eventData>;
  const asCloud = cloudEvent.safeParse(body);
  if (asCloud.success) {
    ({ id, type, data } = asCloud.data);
  } else {
    const asDefault = defaultFormat.safeParse(body);
    if (!asDefault.success) throw new BadRequestError(`not a Harbor webhook: ${zodProblems(asDefault.error)}`, { code: 'invalid_event' });
    type = asDefault.data.type;
    data = asDefault.data.event_data;
    id = `sha256:${createHash('sha256').update(JSON.stringify(body)).digest('hex')}`;
  }
  const action = ACTIONS[type] ?? type;
  const repository = data.repository.repo_full_name ?? (data.repository.namespace && data.repository.name ? `${data.repository.namespace}/${data.repository.name}` : null);
  return data.resources.map((r, i) => {
    const digest = r.digest && isDigest(r.digest) ? r.digest : null;
    // Harbor puts the digest in `tag` when the push had no tag.
    const tag = r.tag && !isDigest(r.tag) ? r.tag : null;
    let why: string | null = null;
    if (repository === null) why = 'no repository';
    else if (action !== 'push' && action !== 'delete') why = action;
    else if (digest === null) why = 'no valid digest';
    return {
      source: 'harbor' as const,
      eventId: data.resources.length > 1 ? `${id}#${i}` : id,
      action,
      repository,
      tag,
      digest,
      mediaType: null,
      tags: tag ? [tag] : [],
      actionable: why === null,
      ignoredBecause: why,
      raw: body,
    };
  });
}

import { z } from 'zod';
import { isRepositoryName } from '../../registry/image-reference.ts';
import { TokenRejectedError } from './token-rejected-error.ts';

/** Most `access` entries read from one token. */
export const MAX_ACCESS_ENTRIES = 1024;

const entrySchema = z.looseObject({
  type: z.string().max(64),
  name: z.string().max(512),
  actions: z.array(z.string().max(64)).max(32).nullish(),
});
const claimSchema = z.array(entrySchema).max(MAX_ACCESS_ENTRIES);

/** One resource grant of a registry token (`{type, name, actions}`; `class` is ignored, as registries do). */
export type AccessEntry = z.infer<typeof entrySchema>;

/**
 * The repositories a registry token's `access` claim lets its bearer pull: entries of type
 * `repository` whose actions include `pull` or `*`, names matched exactly (as registry 2.8 does;
 * entries with invalid repository names are ignored). No claim grants nothing. A claim that is not
 * a list of `{type, name, actions}` (or is over the limits) is a {@link TokenRejectedError}.
 */
export function readableRepositories(access: unknown): ReadonlySet<string> {
  if (access === undefined || access === null) return new Set();
  const parsed = claimSchema.safeParse(access);
  if (!parsed.success) throw new TokenRejectedError('invalid claims', 'the access claim is not a list of {type, name, actions}');
  const out = new Set<string>();
  for (const entry of parsed.data) {
    if (entry.type !== 'repository' || !isRepositoryName(entry.name)) continue;
    const actions = entry.actions ?? [];
    if (actions.includes('pull') || actions.includes('*')) out.add(entry.name);
  }
  return out;
}

import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { ALPINE_REPOSITORIES, ALPINE_SECDB_URL, createAlpineUpdater } from './alpine-updater.ts';

const options = z.strictObject({
  /** Releases to fetch (`3.19`, `edge`); empty = every release the secdb index lists. */
  releases: z.array(z.string().regex(/^(v?\d+\.\d+|edge)$/)).default([]),
  repositories: z.array(z.string().regex(/^[a-z]+$/)).default([...ALPINE_REPOSITORIES]),
});

/** Alpine: secdb per release and repository, keyed by origin package. */
export const alpineEcosystem = {
  name: 'alpine',
  feeds: [
    {
      name: 'alpine',
      defaultUrl: ALPINE_SECDB_URL,
      description: 'Alpine secdb (per release and repository)',
      enabledByDefault: true,
      options,
      create: ({ url, options: o }) =>
        createAlpineUpdater({ url, repositories: o.repositories, ...(o.releases.length > 0 ? { releases: o.releases } : {}) }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

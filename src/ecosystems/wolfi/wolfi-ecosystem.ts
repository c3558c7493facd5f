import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { CHAINGUARD_SECDB_URL, createChainguardUpdater, createWolfiUpdater, WOLFI_SECDB_URL } from './wolfi-updater.ts';

const options = z.strictObject({});

/** Wolfi and Chainguard: one rolling secdb file each. */
export const wolfiEcosystem = {
  name: 'wolfi',
  feeds: [
    {
      name: 'wolfi',
      defaultUrl: WOLFI_SECDB_URL,
      description: 'Wolfi secdb',
      enabledByDefault: true,
      options,
      create: ({ url }) => createWolfiUpdater({ url }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
    {
      name: 'chainguard',
      defaultUrl: CHAINGUARD_SECDB_URL,
      description: 'Chainguard secdb',
      enabledByDefault: true,
      options,
      create: ({ url }) => createChainguardUpdater({ url }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

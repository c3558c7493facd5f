import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createEpssUpdater, EPSS_URL } from './epss-updater.ts';

const options = z.strictObject({});

/** FIRST EPSS: the probability of exploitation of each CVE. */
export const epssEcosystem = {
  name: 'epss',
  feeds: [
    {
      name: 'epss',
      defaultUrl: EPSS_URL,
      description: 'EPSS scores (CSV)',
      enabledByDefault: true,
      options,
      create: ({ url }) => createEpssUpdater({ url }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

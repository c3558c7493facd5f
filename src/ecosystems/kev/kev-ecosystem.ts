import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createKevUpdater, KEV_URL } from './kev-updater.ts';

const options = z.strictObject({});

/** CISA Known Exploited Vulnerabilities. */
export const kevEcosystem = {
  name: 'kev',
  feeds: [
    {
      name: 'kev',
      defaultUrl: KEV_URL,
      description: 'CISA Known Exploited Vulnerabilities (JSON)',
      enabledByDefault: true,
      options,
      create: ({ url }) => createKevUpdater({ url }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

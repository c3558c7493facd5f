import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { AMAZON_LINUX_URL, createAmazonUpdater, DEFAULT_AMAZON_RELEASES } from './amazon-updater.ts';

const options = z.strictObject({
  /** Releases and their mirror lists (relative to the feed URL, or absolute: Amazon Linux 1 is on another host). */
  releases: z
    .array(z.strictObject({ release: z.string().regex(/^(1|2|20\d\d)$/), mirrorList: z.string().min(1) }))
    .min(1)
    .default(DEFAULT_AMAZON_RELEASES.map((r) => ({ ...r }))),
});

/** Amazon Linux: ALAS advisories from each release's yum updateinfo. */
export const amazonEcosystem = {
  name: 'amazon',
  feeds: [
    {
      name: 'amazon',
      defaultUrl: AMAZON_LINUX_URL,
      description: 'Amazon Linux ALAS (updateinfo per release)',
      enabledByDefault: true,
      options,
      create: ({ options: o }) => createAmazonUpdater({ releases: o.releases }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

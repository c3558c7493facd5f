import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createSuseUpdater, DEFAULT_SUSE_PRODUCTS, SUSE_OVAL_URL } from './suse-updater.ts';

const options = z.strictObject({
  /** Products: `sles:<major>`, `opensuse-leap:<version>`. */
  products: z.array(z.string().regex(/^(sles:\d+|opensuse-leap:\d+\.\d+)$/)).min(1).default([...DEFAULT_SUSE_PRODUCTS]),
});

/** SUSE Linux Enterprise and openSUSE Leap: SUSE's OVAL per product, per service pack. */
export const suseEcosystem = {
  name: 'suse',
  feeds: [
    {
      name: 'suse',
      defaultUrl: SUSE_OVAL_URL,
      description: 'SUSE OVAL (SLES and openSUSE Leap)',
      enabledByDefault: true,
      options,
      create: ({ options: o }) => createSuseUpdater({ products: o.products }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

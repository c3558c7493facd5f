import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createDebianUpdater, DEBIAN_TRACKER_URL } from './debian-updater.ts';

const options = z.strictObject({
  /** Release codenames to keep; empty = the releases Debian supports today. */
  releases: z.array(z.string().regex(/^[a-z]+$/)).default([]),
});

/** Debian: the security tracker's JSON, keyed by source package per release. */
export const debianEcosystem = {
  name: 'debian',
  feeds: [
    {
      name: 'debian',
      defaultUrl: DEBIAN_TRACKER_URL,
      description: 'Debian security tracker (JSON)',
      enabledByDefault: true,
      options,
      create: ({ url, options: o }) => createDebianUpdater({ url, ...(o.releases.length > 0 ? { releases: o.releases } : {}) }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

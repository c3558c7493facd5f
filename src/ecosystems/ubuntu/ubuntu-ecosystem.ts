import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createUbuntuUpdater, DEFAULT_UBUNTU_RELEASES, UBUNTU_OVAL_URL } from './ubuntu-updater.ts';

const options = z.strictObject({
  /** Release codenames, one OVAL file each. */
  releases: z.array(z.string().regex(/^[a-z]+$/)).min(1).default([...DEFAULT_UBUNTU_RELEASES]),
});

/** Ubuntu: Canonical's CVE OVAL per release, keyed by source package. */
export const ubuntuEcosystem = {
  name: 'ubuntu',
  feeds: [
    {
      name: 'ubuntu',
      defaultUrl: UBUNTU_OVAL_URL,
      description: 'Ubuntu CVE OVAL (per release)',
      enabledByDefault: true,
      options,
      create: ({ options: o }) => createUbuntuUpdater({ releases: o.releases }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createPhotonUpdater, DEFAULT_PHOTON_RELEASES, PHOTON_OVAL_URL } from './photon-updater.ts';

const options = z.strictObject({
  /** Major releases, one OVAL file each. */
  releases: z.array(z.string().regex(/^\d+$/)).min(1).default([...DEFAULT_PHOTON_RELEASES]),
});

/** VMware Photon OS: PHSA OVAL per release. */
export const photonEcosystem = {
  name: 'photon',
  feeds: [
    {
      name: 'photon',
      defaultUrl: PHOTON_OVAL_URL,
      description: 'Photon OS PHSA OVAL (per release)',
      enabledByDefault: true,
      options,
      create: ({ options: o }) => createPhotonUpdater({ releases: o.releases }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

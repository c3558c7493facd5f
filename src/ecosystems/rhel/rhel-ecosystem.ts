import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createRhelOvalUpdater, DEFAULT_RHEL_OVAL_RELEASES, RHEL_OVAL_URL } from './rhel-oval-updater.ts';
import { createRhelVexUpdater, RHEL_VEX_URL } from './rhel-vex-updater.ts';

const vexOptions = z.strictObject({
  /** Skip documents filed under years before this one. */
  fromYear: z.number().int().min(1999).max(2100).optional(),
  /** Most documents fetched one by one after the archive. */
  maxChangedDocuments: z.number().int().positive().optional(),
  /** Largest single document, in bytes. */
  maxDocumentBytes: z.number().int().positive().optional(),
});

const ovalOptions = z.strictObject({
  /** Major releases whose `RHEL<N>/*.oval.xml.bz2` files are fetched. */
  releases: z.array(z.string().regex(/^\d+$/)).min(1).default([...DEFAULT_RHEL_OVAL_RELEASES]),
  /** Globs over PULP_MANIFEST paths, replacing the release selection. */
  include: z.array(z.string().min(1)).optional(),
});

/** Red Hat Enterprise Linux: CSAF VEX (primary) and OVAL v2 (fallback), scoped by product CPE. */
export const rhelEcosystem = {
  name: 'rhel',
  feeds: [
    {
      name: 'rhel-vex',
      defaultUrl: RHEL_VEX_URL,
      description: 'Red Hat CSAF VEX (per CVE, by product CPE and module)',
      enabledByDefault: true,
      options: vexOptions,
      create: ({ options: o }) => createRhelVexUpdater(o),
    } satisfies FeedDefinition<z.infer<typeof vexOptions>>,
    {
      name: 'rhel-oval',
      defaultUrl: RHEL_OVAL_URL,
      description: 'Red Hat OVAL v2 (fallback to rhel-vex)',
      enabledByDefault: false,
      options: ovalOptions,
      create: ({ options: o }) => createRhelOvalUpdater({ releases: o.releases, ...(o.include ? { include: o.include } : {}) }),
    } satisfies FeedDefinition<z.infer<typeof ovalOptions>>,
  ],
} as const satisfies Ecosystem;

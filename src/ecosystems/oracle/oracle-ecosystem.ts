import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createOracleUpdater, ORACLE_OVAL_URL } from './oracle-updater.ts';

const options = z.strictObject({
  /** Major releases to keep; empty = all. */
  releases: z.array(z.string().regex(/^\d+$/)).default([]),
  /** OVAL files under the feed URL. */
  files: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/)).min(1).default(['com.oracle.elsa-all.xml.bz2']),
});

/** Oracle Linux: ELSA OVAL, per release and arch. */
export const oracleEcosystem = {
  name: 'oracle',
  feeds: [
    {
      name: 'oracle',
      defaultUrl: ORACLE_OVAL_URL,
      description: 'Oracle Linux ELSA OVAL',
      enabledByDefault: true,
      options,
      create: ({ options: o }) => createOracleUpdater({ files: o.files, ...(o.releases.length > 0 ? { releases: o.releases } : {}) }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

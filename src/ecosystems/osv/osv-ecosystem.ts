import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { OSV_ECOSYSTEMS } from './osv-ecosystems.ts';
import { createOsvUpdater, OSV_BUCKET_URL } from './osv-updater.ts';

const options = z.strictObject({});

/** OSV: one bulk archive per language ecosystem (npm, PyPI, Go, Maven, RubyGems, crates.io). */
export const osvEcosystem = {
  name: 'osv',
  feeds: OSV_ECOSYSTEMS.map(
    (eco) =>
      ({
        name: eco.updater,
        defaultUrl: `${OSV_BUCKET_URL}${encodeURIComponent(eco.osv)}/all.zip`,
        description: `OSV advisories for ${eco.osv}`,
        // No scanner finds Rust crates in images yet: the crates.io archive is fetched only when asked for.
        enabledByDefault: eco.ecosystem !== 'cargo',
        options,
        create: ({ url }) => createOsvUpdater({ ecosystem: eco.osv, url }),
      }) satisfies FeedDefinition<z.infer<typeof options>>,
  ),
} as const satisfies Ecosystem;

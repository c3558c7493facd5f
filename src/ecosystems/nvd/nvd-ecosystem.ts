import { z } from 'zod';
import type { Ecosystem } from '../ecosystem.ts';
import type { FeedDefinition } from '../updater.ts';
import { createNvdUpdater, NVD_CVE_API_URL } from './nvd-updater.ts';

const options = z.strictObject({
  /** An NVD API key (secret): raises NVD's rate limit. */
  apiKey: z.string().min(1).optional(),
  /** Pause between pages; default 6 s without a key, 0.6 s with one. */
  pageDelayMs: z.number().int().min(0).optional(),
  /** After the first run, fetch only CVEs modified since the previous run. */
  incremental: z.boolean().default(true),
});

/** NVD CVE API 2.0: CVSS, descriptions and CWEs to enrich findings. */
export const nvdEcosystem = {
  name: 'nvd',
  feeds: [
    {
      name: 'nvd',
      defaultUrl: NVD_CVE_API_URL,
      description: 'NVD CVE API 2.0 (CVSS enrichment)',
      enabledByDefault: true,
      options,
      create: ({ url, options: o }) =>
        createNvdUpdater({
          url,
          incremental: o.incremental,
          ...(o.apiKey ? { apiKey: o.apiKey } : {}),
          ...(o.pageDelayMs !== undefined ? { pageDelayMs: o.pageDelayMs } : {}),
        }),
    } satisfies FeedDefinition<z.infer<typeof options>>,
  ],
} as const satisfies Ecosystem;

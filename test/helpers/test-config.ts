import { loadConfig } from '../../src/config/load-config.ts';
import { deepMerge } from '../../src/config/deep-merge.ts';
import type { Config } from '../../src/config/config-schema.ts';

/**
 * A real, validated configuration for a test: the shipped defaults, the test's database, port 0,
 * quiet logs, feeds off, and whatever the test overrides (as `LOOKOUT_*` variables would).
 */
export function testConfig(databaseUrl: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: { DATABASE_URL: databaseUrl },
    overrides: deepMerge(
      {
        server: { host: '127.0.0.1', port: 0, shutdownTimeoutSeconds: 5 },
        log: { level: 'silent' },
        jobs: { pollingIntervalSeconds: 0.5, retryDelaySeconds: 1, superviseIntervalSeconds: 1 },
        // Tests never reach the real feeds: a test that runs feeds points them at a local server.
        feeds: { enabled: false },
      },
      overrides,
    ),
  });
}

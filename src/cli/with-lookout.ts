import { buildLookout, type Lookout } from '../app/composition-root.ts';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../log/create-logger.ts';

/**
 * Builds Lookout for a one-off command (migrating the database first when the config says so),
 * runs `fn`, and stops it. Logs go to stderr at warn level unless configured lower, so command
 * output on stdout stays clean.
 */
export async function withLookout<T>(fn: (lookout: Lookout) => Promise<T>, overrides: Record<string, unknown> = {}): Promise<T> {
  // A command serves no HTTP and runs no queue workers: build only what the worker role needs.
  const config = loadConfig({ overrides: { roles: ['worker'], ...overrides } });
  const level = config.log.level === 'info' ? 'warn' : config.log.level;
  const { pino } = await import('pino');
  const logger = createLogger(level, pino.destination({ fd: 2, sync: true }));
  const lookout = await buildLookout(config, { logger, migrate: config.database.migrateOnStart });
  try {
    await lookout.syncConfig();
    return await fn(lookout);
  } finally {
    await lookout.stop();
  }
}

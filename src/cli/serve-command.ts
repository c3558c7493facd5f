import type { Role } from '../config/config-schema.ts';
import { loadConfig } from '../config/load-config.ts';
import { buildLookout } from '../app/composition-root.ts';
import { createLogger } from '../log/create-logger.ts';

interface ServeFlags {
  roles?: string;
  port?: string;
  migrate: boolean;
}

/** `lookout serve`: builds everything, starts, and stops gracefully on SIGTERM/SIGINT. */
export async function serveCommand(flags: ServeFlags): Promise<void> {
  const overrides: Record<string, unknown> = {};
  if (flags.roles !== undefined) overrides.roles = flags.roles.split(',').map((r) => r.trim()) as Role[];
  if (flags.port !== undefined) overrides.server = { port: Number(flags.port) };
  if (!flags.migrate) overrides.database = { migrateOnStart: false };
  const config = loadConfig({ overrides });
  const logger = createLogger(config.log.level);
  logger.info({ roles: config.roles, node: process.version }, 'lookout starting');

  const lookout = await buildLookout(config, { logger, migrate: config.database.migrateOnStart });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'lookout forced exit');
      process.exit(130);
    }
    logger.info({ signal }, 'lookout signal received');
    lookout.stop().then(
      () => {
        logger.flush();
        process.exitCode = 0;
      },
      (err: unknown) => {
        logger.error({ err }, 'lookout stop failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await lookout.start();
  } catch (err) {
    await lookout.stop();
    throw err;
  }
}

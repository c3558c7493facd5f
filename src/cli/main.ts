#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/config-error.ts';
import { ROLES } from '../config/config-schema.ts';
import { EmbeddedDatabaseError } from '../store/embedded-postgres.ts';
import { configCommand } from './config-command.ts';
import { registerFeedsCommands } from './feeds-command.ts';
import { registerScanCommand } from './scan-command.ts';
import { registerExplainCommand } from './explain-command.ts';
import { registerAdvisoriesCommands } from './advisories-command.ts';
import { registerVexCommands } from './vex-command.ts';
import { migrateCommand } from './migrate-command.ts';
import { serveCommand } from './serve-command.ts';
import { vercmpCommand } from './vercmp-command.ts';
import { EXIT } from './exit-codes.ts';

/** `lookout` — every subcommand goes through the composition root. */
export function buildProgram(): Command {
  const program = new Command('lookout')
    .description('Registry-side container image vulnerability scanner')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('run the service: HTTP API, webhooks, workers, feed updates, notifications')
    .addOption(new Option('--roles <list>', `comma-separated roles to run (${ROLES.join(', ')}); default all`))
    .option('--port <port>', 'port to listen on (overrides server.port)')
    .option('--no-migrate', 'do not apply pending migrations at start')
    .action(serveCommand);

  program
    .command('migrate')
    .description('apply pending database migrations and install the job schema')
    .option('--rollback', 'undo every applied migration (drops Lookout tables and their data)')
    .option('--status', 'list applied and pending migrations, change nothing')
    .action(migrateCommand);

  program
    .command('config')
    .description('validate the configuration and print it, secrets masked')
    .action(configCommand);

  program
    .command('vercmp')
    .description('compare two versions as the ecosystem\'s own tool does: prints <, = or >')
    .argument('<ecosystem>', 'dpkg, rpm, apk, pypi, npm, go, maven or gem')
    .argument('[a]', 'first version')
    .argument('[b]', 'second version')
    .option('--batch', 'read "A<TAB>B" lines from stdin, print one of < = > (or ! for an invalid pair) per line')
    .action(vercmpCommand);

  registerFeedsCommands(program);
  registerScanCommand(program);
  registerExplainCommand(program);
  registerAdvisoriesCommands(program);
  registerVexCommands(program);

  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; commander already printed what was wrong otherwise.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`lookout: ${err.message}\n`);
    return EXIT.config;
  }
  if (err instanceof EmbeddedDatabaseError) {
    process.stderr.write(`lookout: embedded database: ${err.message}\n`);
    return EXIT.unavailable;
  }
  const code = (err as { code?: unknown })?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    process.stderr.write(`lookout: cannot listen: ${(err as Error).message}\n`);
    return EXIT.unavailable;
  }
  if (typeof code === 'string' && (code === 'ECONNREFUSED' || code.startsWith('28') || code.startsWith('3D') || code.startsWith('08'))) {
    process.stderr.write(`lookout: cannot use the database: ${(err as Error).message}\n`);
    return EXIT.unavailable;
  }
  process.stderr.write(`lookout: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.software;
}

await main(process.argv);

import type { Command } from 'commander';
import { BundleError, exportBundle, importBundle } from '../feeds/feed-bundle.ts';
import type { RunOutcome } from '../feeds/feed-runner.ts';
import { EXIT } from './exit-codes.ts';
import { withLookout } from './with-lookout.ts';

/** `lookout feeds update|status|export|import`. */
export function registerFeedsCommands(program: Command): void {
  const feeds = program.command('feeds').description('vulnerability feeds: update now, show status, export and import bundles');

  feeds
    .command('update')
    .description('run feed updaters now, one line per feed')
    .option('--only <names>', 'comma-separated feed names (default: every enabled feed)')
    .action(async (flags: { only?: string }) => {
      const only = flags.only ? flags.only.split(',').map((s) => s.trim()).filter(Boolean) : null;
      const outcome = await withLookout(async (lookout) => {
        for (const name of only ?? []) {
          if (!lookout.feeds.feeds.has(name)) {
            process.stderr.write(`lookout: unknown feed ${name} (known: ${[...lookout.feeds.feeds.keys()].join(', ')})\n`);
            return 'usage';
          }
        }
        const outcomes = await lookout.feeds.runNow(only, (o) => process.stdout.write(`${describe(o)}\n`));
        return outcomes.some((o) => o.state === 'failed') ? 'failed' : 'ok';
      });
      if (outcome === 'usage') process.exitCode = EXIT.usage;
      else if (outcome === 'failed') process.exitCode = EXIT.findings;
    });

  feeds
    .command('status')
    .description("each feed's last run: when, outcome, fingerprint, counts, error")
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      await withLookout(async (lookout) => {
        const status = await lookout.feeds.status();
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(status.map(({ feed, run }) => ({ feed: feed.name, enabled: feed.enabled, url: feed.url, run })), null, 2)}\n`);
          return;
        }
        for (const { feed, run } of status) {
          const when = run?.finishedAt ? new Date(run.finishedAt).toISOString() : run ? 'running' : 'never';
          const counts = run?.counts.total !== undefined ? ` total=${run.counts.total} +${run.counts.added ?? 0} -${run.counts.removed ?? 0} ~${run.counts.changed ?? 0}` : '';
          const fingerprint = run?.fingerprint ? ` fingerprint=${run.fingerprint.slice(0, 16)}` : '';
          const error = run?.error ? ` error: ${run.error}` : '';
          process.stdout.write(`${feed.name.padEnd(12)} ${feed.enabled ? 'on ' : 'off'} ${(run?.state ?? '-').padEnd(9)} ${when}${fingerprint}${counts}${error}\n`);
        }
      });
    });

  feeds
    .command('export <file>')
    .description("write every feed's latest data to one compressed bundle (for air-gapped installs)")
    .action(async (file: string) => {
      await withLookout(async (lookout) => {
        const { updaters, records } = await exportBundle(lookout.vulnerabilities, file);
        process.stdout.write(`exported ${records} records from ${updaters.length} feeds (${updaters.join(', ')}) to ${file}\n`);
      });
    });

  feeds
    .command('import <file>')
    .description('load a bundle made by `feeds export` (importing the same bundle again changes nothing)')
    .action(async (file: string) => {
      try {
        await withLookout(async (lookout) => {
          await importBundle(lookout.vulnerabilities, file, (r) => process.stdout.write(`${r.updater}: ${r.state} (${r.records} records)\n`));
        });
      } catch (err) {
        if (err instanceof BundleError || (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') {
          process.stderr.write(`lookout: cannot import ${file}: ${(err as Error).message}\n`);
          process.exitCode = EXIT.usage;
          return;
        }
        throw err;
      }
    });
}

function describe(o: RunOutcome): string {
  switch (o.state) {
    case 'changed':
      return `${o.updater}: changed in ${o.seconds} s (${o.counts.total} records: +${o.counts.added} -${o.counts.removed} ~${o.counts.changed}, ${o.counts.enrichments} enrichments)`;
    case 'unchanged':
      return `${o.updater}: unchanged (${o.seconds} s)`;
    case 'locked':
      return `${o.updater}: skipped, another process is updating it`;
    case 'failed':
      return `${o.updater}: FAILED after ${o.seconds} s: ${o.error}`;
  }
}

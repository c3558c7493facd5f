import type { Command } from 'commander';
import type { AdvisoryView, MaterializeOutcome } from '../advisories/advisory-service.ts';
import { parseJsonText } from '../vex/parse-json-text.ts';
import { asOperatorCommand, cliActor } from './operator-errors.ts';
import { readDocumentFiles } from './read-document-files.ts';
import { withLookout } from './with-lookout.ts';

const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_FILES = 10_000;

/** `lookout advisories add|list|withdraw|import`: the operator's own advisories. */
export function registerAdvisoriesCommands(program: Command): void {
  const advisories = program.command('advisories').description('operator advisories: add, list, withdraw, import OSV documents');

  advisories
    .command('add <file>')
    .description('add an advisory (Lookout JSON: id, severity, affected[{ecosystem, distribution, package, ranges|fixedVersion}], …; - for stdin); --replace changes an existing one')
    .option('--replace', 'change the advisory of that id (or reinstate a withdrawn one)')
    .action(async (file: string, flags: { replace?: boolean }) => {
      await asOperatorCommand(async () => {
        const [doc] = await readDocumentFiles(file, { maxBytes: MAX_FILE_BYTES, maxFiles: 1 });
        const body = parseJsonText(doc!.text, 'invalid_advisory');
        await withLookout(async (lookout) => {
          const id = typeof (body as { id?: unknown })?.id === 'string' ? (body as { id: string }).id : '';
          const { advisory, applied } = flags.replace ? await lookout.advisories.replace(id, body, cliActor(), 'cli') : await lookout.advisories.add(body, cliActor(), 'cli');
          process.stdout.write(`${flags.replace ? 'changed' : 'added'} ${advisory.id} (revision ${advisory.revision}): ${advisory.affected.length} affected package${advisory.affected.length === 1 ? '' : 's'}; ${appliedText(applied)}\n`);
        });
      });
    });

  advisories
    .command('list')
    .description('list the advisories')
    .option('--all', 'withdrawn ones too')
    .option('--json', 'print JSON')
    .action(async (flags: { all?: boolean; json?: boolean }) => {
      await asOperatorCommand(async () => {
        await withLookout(async (lookout) => {
          const items: AdvisoryView[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await lookout.advisories.list({ includeWithdrawn: flags.all === true, limit: 500, ...(after !== undefined ? { after } : {}) });
            items.push(...page.items);
            if (page.next === null) break;
            after = page.next;
          }
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
            return;
          }
          if (items.length === 0) process.stdout.write('no advisories\n');
          for (const a of items) {
            const packages = a.affected.map((x) => `${x.ecosystem}${x.distribution ? `/${x.distribution}` : ''}/${x.package}`).join(', ');
            process.stdout.write(`${a.id.padEnd(24)} ${a.state.padEnd(9)} ${a.severity.padEnd(10)} rev ${a.revision}  ${packages}${a.summary ? `  ${a.summary.replace(/[\u0000-\u001f]+/g, ' ').slice(0, 80)}` : ''}\n`);
          }
        });
      });
    });

  advisories
    .command('withdraw <id>')
    .description('withdraw an advisory: its findings go away (subscribers hear `resolved`)')
    .action(async (id: string) => {
      await asOperatorCommand(async () => {
        await withLookout(async (lookout) => {
          const { advisory, applied } = await lookout.advisories.withdraw(id, cliActor());
          process.stdout.write(`withdrew ${advisory.id}; ${appliedText(applied)}\n`);
        });
      });
    });

  advisories
    .command('import <file-or-dir>')
    .description('import OSV JSON records (a file, or every .json file of a directory); all or nothing')
    .action(async (target: string) => {
      await asOperatorCommand(async () => {
        const files = await readDocumentFiles(target, { maxBytes: MAX_FILE_BYTES, maxFiles: MAX_FILES });
        const inputs = files.map((f) => {
          try {
            return { name: f.name, value: parseJsonText(f.text, 'invalid_advisory') };
          } catch (err) {
            (err as Error).message = `${f.name}: ${(err as Error).message}`;
            throw err;
          }
        });
        await withLookout(async (lookout) => {
          const { counts, applied } = await lookout.advisories.importOsv(inputs, cliActor(), 'osv');
          process.stdout.write(`imported ${files.length} document${files.length === 1 ? '' : 's'}: ${counts.added} added, ${counts.changed} changed, ${counts.unchanged} unchanged, ${counts.withdrawn} withdrawn; ${appliedText(applied)}\n`);
        });
      });
    });
}

function appliedText(applied: MaterializeOutcome): string {
  if (applied.state === 'unchanged') return 'vulnerability data unchanged';
  const c = applied.counts;
  return `run ${applied.runId}: +${c.added} -${c.removed} ~${c.changed} records, ${c.reportsInvalidated} reports invalidated, ${c.notifications} notifications`;
}

import type { Command } from 'commander';
import { VEX_FORMATS, type VexFormat } from '../vex/parsed-vex.ts';
import { VexService } from '../vex/vex-service.ts';
import { EXIT } from './exit-codes.ts';
import { asOperatorCommand, cliActor } from './operator-errors.ts';
import { readDocumentFiles } from './read-document-files.ts';
import { withLookout } from './with-lookout.ts';

/** `lookout vex import|list|delete`: VEX documents. */
export function registerVexCommands(program: Command): void {
  const vex = program.command('vex').description('VEX documents (OpenVEX, CycloneDX VEX, CSAF VEX): import, list, delete');

  vex
    .command('import <file>')
    .description('import a VEX document (- for stdin), for every image unless scoped')
    .option('--image <digest>', 'only for this image')
    .option('--repository <glob>', 'only for images in repositories matching this glob (team/*)')
    .option('--format <format>', `${VEX_FORMATS.join(', ')} (default: told from the document)`)
    .action(async (file: string, flags: { image?: string; repository?: string; format?: string }) => {
      if (flags.format !== undefined && !(VEX_FORMATS as readonly string[]).includes(flags.format)) {
        process.stderr.write(`lookout: unknown format ${flags.format} (${VEX_FORMATS.join(', ')})\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      await asOperatorCommand(async () => {
        const scope = VexService.scope({ ...(flags.image !== undefined ? { image: flags.image } : {}), ...(flags.repository !== undefined ? { repository: flags.repository } : {}) });
        await withLookout(async (lookout) => {
          const [doc] = await readDocumentFiles(file, { maxBytes: lookout.vex.documentLimits.maxBytes, maxFiles: 1 });
          const result = await lookout.vex.import(doc!.text, { scope, importedBy: cliActor(), ...(flags.format ? { format: flags.format as VexFormat } : {}) });
          const d = result.document;
          process.stdout.write(
            `imported ${d.format} document ${d.id}${d.documentId ? ` (${d.documentId})` : ''}: ${d.statementCount} statement${d.statementCount === 1 ? '' : 's'}, ${result.skippedCount} skipped${result.replaced ? `, replacing ${result.replaced}` : ''}; ${result.reportsInvalidated} reports invalidated\n`,
          );
          for (const s of result.skipped.slice(0, 5)) process.stdout.write(`  skipped ${s.position}: ${s.reason}\n`);
        });
      });
    });

  vex
    .command('list')
    .description('list imported VEX documents, newest first')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      await asOperatorCommand(async () => {
        await withLookout(async (lookout) => {
          const { items } = await lookout.vex.list({ limit: 200 });
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
            return;
          }
          if (items.length === 0) process.stdout.write('no VEX documents\n');
          for (const d of items) {
            const scope = d.scope.kind === 'global' ? 'global' : d.scope.kind === 'image' ? `image ${d.scope.digest.slice(0, 19)}` : `repository ${d.scope.pattern}`;
            process.stdout.write(`${d.id.padEnd(6)} ${d.format.padEnd(9)} ${String(d.statementCount).padStart(6)} statements  ${scope}  ${d.author ?? ''}  ${d.documentId ?? ''}\n`);
          }
        });
      });
    });

  vex
    .command('delete <id>')
    .description('delete an imported VEX document: its statements stop applying')
    .action(async (id: string) => {
      await asOperatorCommand(async () => {
        await withLookout(async (lookout) => {
          await lookout.vex.delete(id);
          process.stdout.write(`deleted VEX document ${id}\n`);
        });
      });
    });
}

import type { Command } from 'commander';
import type { Lookout } from '../app/composition-root.ts';
import { isDigest } from '../oci/digest.ts';
import type { RecordCheck } from '../matcher/finding.ts';
import { EXIT } from './exit-codes.ts';
import { scanImage } from './scan-image.ts';
import { withLookout } from './with-lookout.ts';

/** `lookout explain IMAGE PACKAGE`: why a package has (or has no) findings. */
export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('show, for one package of an image, every vulnerability record checked: the versions compared and why each applies or not')
    .argument('<image>', 'a digest already indexed, or anything `lookout scan` accepts')
    .argument('<package>', 'package name, or name@version')
    .option('--json', 'print JSON')
    .action(async (image: string, packageArg: string, flags: { json?: boolean }) => {
      const at = packageArg.lastIndexOf('@');
      const name = at > 0 ? packageArg.slice(0, at) : packageArg;
      const version = at > 0 ? packageArg.slice(at + 1) : null;
      const text = await withLookout(async (lookout) => {
        const manifestIds = await manifestsOf(lookout, image);
        const out: unknown[] = [];
        const lines: string[] = [];
        for (const manifestId of manifestIds) {
          const facts = await lookout.reports.facts(manifestId);
          const { report, match } = await lookout.reports.compute(facts, { explain: true });
          const packages = report.packages.filter((p) => p.name === name && (version === null || p.version === version));
          for (const p of packages) {
            const explanation = match.explanations.find((e) => e.packageId === p.id);
            const findings = report.findings.filter((f) => f.packageId === p.id);
            out.push({ image: facts.digest, package: p, status: explanation?.status, reason: explanation?.reason, findings, checks: explanation?.checks ?? [], checksOmitted: explanation?.checksOmitted ?? 0 });
            lines.push(`${p.ecosystem} ${p.name} ${p.version}${p.sourceName && p.sourceName !== p.name ? ` (source ${p.sourceName} ${p.sourceVersion ?? ''})` : ''} in ${facts.digest}`);
            lines.push(`  matched: ${explanation?.status ?? 'unknown'}${explanation?.reason ? ` (${explanation.reason})` : ''}`);
            for (const f of findings) {
              lines.push(`  FINDING ${f.vulnerability} ${f.severity} ${f.state}${f.fixedVersion ? ` fixed in ${f.fixedVersion}` : ''} [${f.source.updater}]`);
              for (const c of f.explain) lines.push(`    ${describe(c)}`);
            }
            for (const c of explanation?.checks ?? []) lines.push(`  no finding: ${describe(c)}`);
            if ((explanation?.checksOmitted ?? 0) > 0) lines.push(`  … and ${explanation!.checksOmitted} more records checked`);
            if (findings.length === 0 && (explanation?.checks.length ?? 0) === 0) lines.push('  no vulnerability record names this package');
          }
        }
        if (out.length === 0) return null;
        return flags.json ? JSON.stringify(out, null, 2) : lines.join('\n');
      });
      if (text === null) {
        process.stderr.write(`lookout: no package ${packageArg} in ${image}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      process.stdout.write(`${text}\n`);
    });
}

async function manifestsOf(lookout: Lookout, image: string): Promise<number[]> {
  if (isDigest(image)) {
    const row = await lookout.images.manifestByDigest(image);
    if (row && row.kind === 'image') return [row.id];
  }
  return (await scanImage(lookout, image, {})).images.map((i) => i.manifestId);
}

function describe(c: RecordCheck): string {
  const compared = c.installedVersion && c.fixedVersion ? ` (${c.installedVersion} ${c.comparison === -1 ? '<' : c.comparison === 1 ? '>' : '='} ${c.fixedVersion})` : '';
  return `${c.vulnerability} from ${c.updater}: ${c.verdict}${compared}: ${c.detail}`;
}

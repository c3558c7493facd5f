import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ImageSourceError } from '../indexer/image-source-error.ts';
import { LayerError } from '../indexer/layer-errors.ts';
import { renderCycloneDx } from '../matcher/format/cyclonedx.ts';
import { renderHtml } from '../matcher/format/html.ts';
import { renderSarif } from '../matcher/format/sarif.ts';
import { renderTable } from '../matcher/format/table.ts';
import { buildIndexReport, failOn, filterReport, parseSeverity, parseSeverityList, type FindingFilter, type ImageReport, type IndexReport } from '../matcher/image-report.ts';
import { RegistryError } from '../registry/registry-error.ts';
import { EXIT } from './exit-codes.ts';
import { scanImage, ScanInputError } from './scan-image.ts';
import { withLookout } from './with-lookout.ts';
import { renderCycloneDxVex } from '../vex/render-cyclonedx-vex.ts';
import { renderOpenVex } from '../vex/render-openvex.ts';

interface ScanFlags {
  format: string;
  packages?: boolean;
  severity?: string;
  ignoreUnfixed?: boolean;
  failOn?: string;
  platform?: string[];
  output?: string;
  includeSuppressed?: boolean;
}

const FORMATS = ['table', 'json', 'sarif', 'cyclonedx', 'html', 'openvex', 'cyclonedx-vex'];

/** `lookout scan IMAGE`. */
export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description('scan an image: a docker save archive, an OCI layout (oci:DIR[:TAG]) or REGISTRY/REPO:TAG|@DIGEST')
    .argument('<image>', 'the image to scan')
    .option('--format <format>', `output: ${FORMATS.join(', ')}`, 'table')
    .option('--packages', 'list the packages instead of the vulnerabilities')
    .option('--severity <list>', 'only findings of these severities (comma-separated)')
    .option('--ignore-unfixed', 'only findings with a fixed version')
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity remains')
    .option('--platform <os/arch>', 'scan only this platform of a multi-platform image (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--output <file>', 'write the report to a file instead of standard output')
    .option('--include-suppressed', 'also show findings a VEX statement or an exception suppressed, with why (always in VEX formats)')
    .action(scanCommand);
}

async function scanCommand(image: string, flags: ScanFlags): Promise<void> {
  if (!FORMATS.includes(flags.format)) return usage(`unknown format ${flags.format} (${FORMATS.join(', ')})`);
  let filter: FindingFilter;
  let threshold;
  try {
    const vex = flags.format === 'openvex' || flags.format === 'cyclonedx-vex';
    filter = {
      ...(flags.severity ? { severities: parseSeverityList(flags.severity) } : {}),
      ...(flags.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
      ...(flags.includeSuppressed || vex ? { includeSuppressed: true } : {}),
    };
    threshold = flags.failOn ? parseSeverity(flags.failOn) : null;
  } catch (err) {
    return usage((err as Error).message);
  }
  const progress = process.stderr.isTTY ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
  try {
    const output = await withLookout(async (lookout) => {
      const scanned = await scanImage(lookout, image, { ...(flags.platform ? { platforms: flags.platform } : {}), ...(progress ? { progress } : {}) });
      const reports: ImageReport[] = [];
      for (const s of scanned.images) reports.push((await lookout.reports.report(s.manifestId)).report);
      for (const s of scanned.images) if (s.failure) process.stderr.write(`lookout: ${s.image.digest}: ${s.failure}\n`);
      const whole: ImageReport | IndexReport =
        reports.length === 1
          ? { ...reports[0]!, image: { ...reports[0]!.image, reference: image }, notes: [...scanned.notes, ...reports[0]!.notes] }
          : buildIndexReport({ digest: reports[0]!.image.digest, mediaType: 'application/vnd.oci.image.index.v1+json', reference: image, generation: reports[0]!.vulnerabilityDatabase.generation, generatedAt: new Date(), manifests: reports, notes: scanned.notes });
      if ((await lookout.reports.generation()) === 0) {
        process.stderr.write('lookout: the vulnerability database is empty: run `lookout feeds update` (or `lookout feeds import`) first\n');
      }
      return filterReport(whole, filter);
    });
    const text = render(output, flags);
    if (flags.output) await writeFile(flags.output, text);
    else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    if (threshold) {
      const decision = failOn(output, threshold, filter);
      if (decision.fail) {
        process.stderr.write(`lookout: ${decision.count} finding(s) at or above ${threshold} (worst: ${decision.worst})\n`);
        process.exitCode = EXIT.findings;
      }
    }
  } catch (err) {
    if (err instanceof ImageSourceError || err instanceof ScanInputError || err instanceof LayerError || err instanceof RegistryError) {
      return usage(`cannot scan ${image}: ${(err as Error).message}`);
    }
    throw err;
  }
}

function render(report: ImageReport | IndexReport, flags: ScanFlags): string {
  if (flags.packages) {
    const reports = report.kind === 'index' ? report.manifests : [report];
    if (flags.format === 'json') return JSON.stringify(reports.map((r) => ({ digest: r.image.digest, platform: r.image.platform, packages: r.packages })), null, 2);
    return reports
      .flatMap((r) => [
        `${r.image.digest}${r.image.platform ? ` (${r.image.platform.os}/${r.image.platform.architecture})` : ''}`,
        ...r.packages.map((p) => `  ${p.ecosystem.padEnd(6)} ${p.name} ${p.version}${p.sourceName && p.sourceName !== p.name ? ` (source ${p.sourceName} ${p.sourceVersion ?? ''})` : ''}  ${p.path}`),
      ])
      .join('\n');
  }
  switch (flags.format) {
    case 'json':
      return JSON.stringify(report, null, 2);
    case 'sarif':
      return JSON.stringify(renderSarif(report), null, 2);
    case 'cyclonedx':
      return JSON.stringify(renderCycloneDx(report), null, 2);
    case 'html':
      return renderHtml(report);
    case 'openvex':
      return JSON.stringify(renderOpenVex(report), null, 2);
    case 'cyclonedx-vex':
      return JSON.stringify(renderCycloneDxVex(report), null, 2);
    default:
      return renderTable(report, { color: process.stdout.isTTY === true && !flags.output });
  }
}

function usage(message: string): void {
  process.stderr.write(`lookout: ${message.replace(/\s+/g, ' ')}\n`);
  process.exitCode = EXIT.usage;
}

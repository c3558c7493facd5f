import type { Severity } from '../../ecosystems/vulnerability-record.ts';
import type { Finding } from '../finding.ts';
import type { ImageReport, IndexReport, ReportPackage } from '../image-report.ts';
import { distributionText, plain, platformText, remediationText, SEVERITIES_DESC, severityCountText, summaryText, suppressedText } from './report-text.ts';

/** Options of {@link renderTable}. */
export interface TableOptions {
  /** `package` (default): a block per vulnerable package; `severity`: a block per severity, most severe first. */
  groupBy?: 'package' | 'severity';
  /** ANSI colours on severities. Off by default (plain text for files and pipes). */
  color?: boolean;
}

/** The widest each column may grow; longer values are cut with `…`. */
const MAX_WIDTH: Readonly<Record<string, number>> = { PACKAGE: 40, VERSION: 36, VULNERABILITY: 24, SEVERITY: 10, STATE: 19, 'FIXED IN': 36, KEV: 3, INSTALLED: 36, 'UPGRADE TO': 36, REMOVES: 40, FROM: 28, BY: 36, WHY: 60 };

const COLOURS: Readonly<Record<Severity, string>> = {
  Critical: '\u001b[1;31m',
  High: '\u001b[31m',
  Medium: '\u001b[33m',
  Low: '\u001b[36m',
  Negligible: '\u001b[2m',
  Unknown: '\u001b[90m',
};
const RESET = '\u001b[0m';

/**
 * A readable terminal table of a report (of each platform, for an index): a header (image,
 * platform, OS, database generation, counts per severity, what was suppressed), then the findings
 * grouped by package or by severity, the suppressed findings with why (when the report holds
 * them), the remediation advice (package upgrades, what each removes, base or own layers), then
 * the notes. Columns have the same widths throughout the
 * output (the widest value, capped per column), so blocks line up; every value from the image is
 * stripped of control characters; colours only when asked.
 */
export function renderTable(report: ImageReport | IndexReport, options: TableOptions = {}): string {
  if (report.kind === 'index') {
    const head = [`Index       ${report.index.digest}`, ...(report.index.reference ? [`Reference   ${plain(report.index.reference)}`] : []), `Findings    ${summaryText(report.summary)} (distinct across platforms)`];
    return [...head, '', ...report.manifests.map((m) => renderImage(m, options))].join('\n');
  }
  return renderImage(report, options);
}

function renderImage(report: ImageReport, options: TableOptions): string {
  const lines: string[] = [];
  lines.push(`Image       ${report.image.digest}`);
  if (report.image.reference) lines.push(`Reference   ${plain(report.image.reference)}`);
  const platform = platformText(report);
  if (platform) lines.push(`Platform    ${plain(platform)}`);
  lines.push(`OS          ${plain(distributionText(report) ?? 'unknown')}`);
  lines.push(`Database    generation ${report.vulnerabilityDatabase.generation} · generated ${report.generatedAt}`);
  lines.push(`Findings    ${summaryText(report.summary)}`);
  const suppressed = suppressedText(report.summary);
  if (suppressed) lines.push(`Suppressed  ${suppressed}`);
  lines.push('');

  const packages = new Map(report.packages.map((p) => [String(p.id), p]));
  const layerIndex = new Map(report.image.layers.map((d, i) => [d, i]));
  const groupBy = options.groupBy ?? 'package';
  const columns = groupBy === 'package' ? ['VULNERABILITY', 'SEVERITY', 'STATE', 'FIXED IN', 'KEV'] : ['PACKAGE', 'VERSION', 'VULNERABILITY', 'STATE', 'FIXED IN', 'KEV'];
  const cells = (f: Finding): Record<string, string> => ({
    PACKAGE: f.package.name,
    VERSION: f.package.version,
    VULNERABILITY: f.vulnerability,
    SEVERITY: f.severity,
    STATE: f.state.replace(/_/g, ' '),
    'FIXED IN': f.fixedVersion ?? '',
    KEV: f.kev ? 'yes' : '',
  });
  const widths = columnWidths(columns, report.findings.map(cells));
  const header = `  ${row(columns, Object.fromEntries(columns.map((c) => [c, c])), widths, false)}`;

  if (report.findings.length === 0) {
    lines.push('No vulnerabilities found.');
  } else if (groupBy === 'package') {
    const byPackage = new Map<string, Finding[]>();
    for (const f of report.findings) {
      const list = byPackage.get(String(f.packageId));
      if (list) list.push(f);
      else byPackage.set(String(f.packageId), [f]);
    }
    for (const [id, findings] of byPackage) {
      lines.push(packageLine(packages.get(id), findings[0]!, layerIndex));
      lines.push(header);
      for (const f of findings) lines.push(`  ${row(columns, cells(f), widths, options.color === true)}`);
      lines.push('');
    }
  } else {
    for (const severity of SEVERITIES_DESC) {
      const findings = report.findings.filter((f) => f.severity === severity);
      if (findings.length === 0) continue;
      lines.push(`${paint(severity, severity, options.color === true)} (${findings.length})`);
      lines.push(header);
      for (const f of findings) lines.push(`  ${row(columns, cells(f), widths, options.color === true)}`);
      lines.push('');
    }
  }
  const hidden = report.suppressedFindings ?? [];
  if (hidden.length > 0) {
    if (lines.at(-1) !== '') lines.push('');
    lines.push(`Suppressed findings (${hidden.length})`);
    const supColumns = ['PACKAGE', 'VERSION', 'VULNERABILITY', 'BY', 'WHY'];
    const supCells = hidden.map((f) => ({
      PACKAGE: f.package.name,
      VERSION: f.package.version,
      VULNERABILITY: f.vulnerability,
      BY: f.suppression.by === 'vex' ? `vex ${f.suppression.status ?? ''} #${f.suppression.id}`.trim() : `exception until ${f.suppression.expires?.slice(0, 10) ?? '?'}`,
      WHY: [f.suppression.justification, f.suppression.reason].filter(Boolean).join(': '),
    }));
    const supWidths = columnWidths(supColumns, supCells);
    lines.push(`  ${row(supColumns, Object.fromEntries(supColumns.map((c) => [c, c])), supWidths, false)}`);
    for (const c of supCells) lines.push(`  ${row(supColumns, c, supWidths, false)}`);
    lines.push('');
  }
  const advice = remediationText(report);
  if (advice !== null) {
    if (lines.at(-1) !== '') lines.push('');
    lines.push(`Remediation ${plain(advice)}`);
    const upgrades = report.remediation.upgrades;
    if (upgrades.length > 0) {
      const remColumns = ['PACKAGE', 'INSTALLED', 'UPGRADE TO', 'REMOVES', 'FROM'];
      const remCells = upgrades.map((u) => ({
        PACKAGE: u.name,
        INSTALLED: u.installedVersion,
        'UPGRADE TO': u.upgradeTo ?? `one of ${u.fixedVersions.join(', ')}`,
        REMOVES: `${u.removes.total} (${severityCountText(u.removes.bySeverity)})${u.remaining > 0 ? `, ${u.remaining} left` : ''}`,
        FROM: u.origin === 'unknown' ? (u.layer ? `layer ${u.layer.slice(0, 19)}` : 'unknown') : `${u.origin} layer`,
      }));
      const remWidths = columnWidths(remColumns, remCells);
      lines.push(`  ${row(remColumns, Object.fromEntries(remColumns.map((c) => [c, c])), remWidths, false)}`);
      for (const c of remCells) lines.push(`  ${row(remColumns, c, remWidths, false)}`);
    }
    lines.push('');
  }
  if (report.notes.length > 0) {
    if (lines.at(-1) !== '') lines.push('');
    lines.push('Notes');
    for (const n of report.notes) lines.push(`  - ${plain(n)}`);
  }
  while (lines.at(-1) === '') lines.pop();
  return `${lines.join('\n')}\n`;
}

function packageLine(p: ReportPackage | undefined, f: Finding, layerIndex: ReadonlyMap<string, number>): string {
  const parts = [f.package.ecosystem];
  if (f.package.sourceName && f.package.sourceName !== f.package.name) parts.push(`source ${f.package.sourceName}${f.package.sourceVersion && f.package.sourceVersion !== f.package.version ? ` ${f.package.sourceVersion}` : ''}`);
  if (p?.introducedIn) {
    const i = layerIndex.get(p.introducedIn);
    parts.push(`layer ${i === undefined ? '' : `${i + 1} `}${p.introducedIn.slice(0, 19)}`);
  }
  if (p?.path) parts.push(p.path);
  return plain(`${f.package.name} ${f.package.version} (${parts.join(', ')})`);
}

function columnWidths(columns: readonly string[], rows: ReadonlyArray<Record<string, string>>): Record<string, number> {
  const widths: Record<string, number> = {};
  for (const c of columns) {
    let w = c.length;
    for (const r of rows) w = Math.max(w, length(plain(r[c] ?? '')));
    widths[c] = Math.min(w, MAX_WIDTH[c] ?? 40);
  }
  return widths;
}

function row(columns: readonly string[], values: Record<string, string>, widths: Record<string, number>, color: boolean): string {
  const out = columns.map((c, i) => {
    const text = fit(plain(values[c] ?? ''), widths[c]!);
    const padded = i === columns.length - 1 ? text : text + ' '.repeat(widths[c]! - length(text));
    return c === 'SEVERITY' && color ? paint(padded, values[c] as Severity, true) : padded;
  });
  return out.join('  ').trimEnd();
}

function paint(text: string, severity: Severity, color: boolean): string {
  return color && COLOURS[severity] ? `${COLOURS[severity]}${text}${RESET}` : text;
}

/** Length in code points (a package name in another script counts one per character). */
function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function fit(text: string, width: number): string {
  if (length(text) <= width) return text;
  return `${[...text].slice(0, Math.max(0, width - 1)).join('')}…`;
}

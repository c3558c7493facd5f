import type { Severity } from '../../ecosystems/vulnerability-record.ts';
import type { Finding } from '../finding.ts';
import type { ImageReport, IndexReport, ReportPackage } from '../image-report.ts';
import type { ReportSummary } from '../report-summary.ts';
import { distributionText, platformText, remediationText, SEVERITIES_DESC, severityCountText, suppressedText } from './report-text.ts';
import { compareText } from '../compare-text.ts';

const COLOUR: Readonly<Record<Severity, string>> = {
  Critical: '#8b0000',
  High: '#d9480f',
  Medium: '#e0a800',
  Low: '#1c7ed6',
  Negligible: '#868e96',
  Unknown: '#adb5bd',
};

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An http(s) URL safe to put in an `href`, or null. */
function safeUrl(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#212529;background:#fff}
h1{font-size:1.5rem;margin:0 0 1rem}h2{font-size:1.25rem;margin:2rem 0 .5rem}h3{font-size:1rem;margin:1.5rem 0 .5rem;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0 0 1rem}dt{color:#495057}dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
table{border-collapse:collapse;width:100%;margin-bottom:1rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #dee2e6;vertical-align:top}
th{background:#f1f3f5;font-weight:600}td.v{font-family:ui-monospace,monospace;word-break:break-all}
.sev{display:inline-block;padding:0 .45rem;border-radius:.25rem;color:#fff;font-size:.8rem;font-weight:600}
.muted{color:#6c757d;font-size:.85rem}.kev{color:#8b0000;font-weight:600}
.chart{margin:.5rem 0 1rem}ul.notes li{margin:.2rem 0}
`;

/**
 * A self-contained HTML page of a report (no scripts, no external assets; a Content-Security-Policy
 * forbids loading any): image details, a bar chart of findings per severity drawn in inline SVG,
 * then the remediation advice (package upgrades, the smallest version fixing all of a package's
 * fixable findings, what each removes by severity, whether the base image or the image's own
 * layers bring it), the findings grouped by the layer that introduced each package (base layer
 * first, unknown last), each with its severity, state, fixed version, EPSS and KEV flag and a
 * link to its first http(s) reference; the suppressed findings with why, when the report holds
 * them; then the notes. Every text from the image, the feeds or an operator is HTML-escaped.
 */
export function renderHtml(report: ImageReport | IndexReport, options: { title?: string } = {}): string {
  const subject = report.kind === 'index' ? (report.index.reference ?? report.index.digest) : (report.image.reference ?? report.image.digest);
  const title = options.title ?? `Vulnerability report: ${subject}`;
  const body: string[] = [`<h1>${escapeHtml(title)}</h1>`];
  if (report.kind === 'index') {
    body.push(details([['Index', report.index.digest], ['Reference', report.index.reference], ['Generated', report.generatedAt], ['Database generation', String(report.vulnerabilityDatabase.generation)]]));
    body.push('<h2>All platforms</h2>', summaryBlock(report.summary));
    for (const m of report.manifests) body.push(`<h2>${escapeHtml(platformText(m) ?? m.image.digest)}</h2>`, imageSection(m));
    if (report.notes.length > 0) body.push(notes(report.notes));
  } else {
    body.push(imageSection(report));
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function details(rows: ReadonlyArray<[string, string | null | undefined]>): string {
  const items = rows.filter((r): r is [string, string] => r[1] !== null && r[1] !== undefined && r[1] !== '');
  return `<dl>${items.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

function imageSection(report: ImageReport): string {
  const out: string[] = [];
  out.push(
    details([
      ['Image', report.image.digest],
      ['Reference', report.image.reference],
      ['Platform', platformText(report)],
      ['Operating system', distributionText(report)],
      ['Media type', report.image.mediaType],
      ['Generated', report.generatedAt],
      ['Database generation', String(report.vulnerabilityDatabase.generation)],
      ['Packages', `${report.summary.packages.total} (${report.summary.packages.vulnerable} vulnerable)`],
    ]),
  );
  out.push(summaryBlock(report.summary));
  out.push(remediationBlock(report));
  out.push(findingsByLayer(report));
  out.push(suppressedBlock(report));
  if (report.notes.length > 0) out.push(notes(report.notes));
  return out.join('\n');
}

function remediationBlock(report: ImageReport): string {
  const text = remediationText(report);
  if (text === null) return '';
  const r = report.remediation;
  const out = ['<h3>Remediation</h3>', `<p>${escapeHtml(text)}.</p>`];
  if (r.upgrades.length > 0) {
    out.push('<table class="remediation"><thead><tr><th>Package</th><th>Installed</th><th>Upgrade to</th><th>Removes</th><th>Comes from</th></tr></thead><tbody>');
    for (const u of r.upgrades) {
      const to = u.upgradeTo ?? `one of ${u.fixedVersions.join(', ')}`;
      const removes = `${u.removes.total} (${severityCountText(u.removes.bySeverity)})${u.remaining > 0 ? `; ${u.remaining} without a fix stay` : ''}`;
      const from = u.origin === 'unknown' ? 'unknown' : u.origin === 'base' ? 'base image' : 'image’s own layers';
      out.push(
        `<tr><td class="v">${escapeHtml(u.name)}</td><td class="v">${escapeHtml(u.installedVersion)}</td><td class="v">${escapeHtml(to)}</td>` +
          `<td>${escapeHtml(removes)}<br><span class="muted">${escapeHtml(u.vulnerabilities.slice(0, 10).join(', '))}${u.vulnerabilities.length > 10 ? ', …' : ''}</span></td>` +
          `<td>${escapeHtml(from)}${u.layer ? `<br><span class="muted">${escapeHtml(u.layer.slice(0, 19))}</span>` : ''}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }
  return out.join('\n');
}

function suppressedBlock(report: ImageReport): string {
  const hidden = report.suppressedFindings ?? [];
  if (hidden.length === 0) return '';
  const out = [`<h3>Suppressed findings <span class="muted">(${hidden.length})</span></h3>`];
  out.push('<table class="suppressed"><thead><tr><th>Package</th><th>Version</th><th>Vulnerability</th><th>Severity</th><th>By</th><th>Why</th></tr></thead><tbody>');
  for (const f of hidden) {
    const s = f.suppression;
    const by = s.by === 'vex' ? `VEX ${s.status ?? ''} (document ${s.id})` : `exception ${s.id} until ${s.expires ?? '?'}${s.author ? `, by ${s.author}` : ''}`;
    const why = [s.justification, s.reason].filter((x): x is string => x !== null && x !== '').join(': ');
    out.push(
      `<tr><td class="v">${escapeHtml(f.package.name)}</td><td class="v">${escapeHtml(f.package.version)}</td><td>${escapeHtml(f.vulnerability)}</td>` +
        `<td><span class="sev" style="background:${COLOUR[f.severity]}">${f.severity}</span></td><td>${escapeHtml(by)}</td><td>${escapeHtml(why)}</td></tr>`,
    );
  }
  out.push('</tbody></table>');
  return out.join('\n');
}

function summaryBlock(summary: ReportSummary): string {
  const suppressed = suppressedText(summary);
  return [
    `<p><strong>${summary.total}</strong> finding${summary.total === 1 ? '' : 's'}, <strong>${summary.fixable}</strong> with a fix.${suppressed ? ` <span class="muted">Suppressed: ${escapeHtml(suppressed)}.</span>` : ''}</p>`,
    chart(summary),
  ].join('\n');
}

/** A horizontal bar per severity, most severe first, with its count. */
function chart(summary: ReportSummary): string {
  const max = Math.max(1, ...SEVERITIES_DESC.map((s) => summary.bySeverity[s]));
  const rowHeight = 24;
  const labelWidth = 90;
  const barWidth = 420;
  const height = SEVERITIES_DESC.length * rowHeight + 4;
  const rows = SEVERITIES_DESC.map((s, i) => {
    const n = summary.bySeverity[s];
    const w = n === 0 ? 0 : Math.max(2, Math.round((n / max) * barWidth));
    const y = i * rowHeight + 2;
    return (
      `<text x="0" y="${y + 16}" font-size="13" fill="#212529">${s}</text>` +
      `<rect x="${labelWidth}" y="${y + 3}" width="${w}" height="${rowHeight - 8}" rx="3" fill="${COLOUR[s]}"><title>${s}: ${n}</title></rect>` +
      `<text x="${labelWidth + w + 6}" y="${y + 16}" font-size="13" fill="#212529">${n}</text>`
    );
  });
  return `<svg class="chart" role="img" aria-label="Findings by severity" width="${labelWidth + barWidth + 60}" height="${height}" viewBox="0 0 ${labelWidth + barWidth + 60} ${height}" xmlns="http://www.w3.org/2000/svg">${rows.join('')}</svg>`;
}

function findingsByLayer(report: ImageReport): string {
  if (report.findings.length === 0) return '<p>No vulnerabilities found.</p>';
  const packages = new Map<string, ReportPackage>(report.packages.map((p) => [String(p.id), p]));
  const order = new Map(report.image.layers.map((d, i) => [d, i]));
  const groups = new Map<string, Finding[]>();
  for (const f of report.findings) {
    const layer = packages.get(String(f.packageId))?.introducedIn ?? '';
    const list = groups.get(layer);
    if (list) list.push(f);
    else groups.set(layer, [f]);
  }
  const keys = [...groups.keys()].sort((a, b) => rank(a, order) - rank(b, order) || compareText(a, b));
  const out: string[] = ['<h3 class="muted">Findings by the layer that introduced the package</h3>'];
  for (const layer of keys) {
    const findings = groups.get(layer)!;
    const i = order.get(layer);
    const heading = layer === '' ? 'Layer unknown' : `Layer ${i === undefined ? '?' : i + 1} · ${layer}`;
    out.push(`<h3>${escapeHtml(heading)} <span class="muted">(${findings.length})</span></h3>`);
    out.push('<table class="findings"><thead><tr><th>Package</th><th>Version</th><th>Vulnerability</th><th>Severity</th><th>State</th><th>Fixed in</th><th>EPSS</th><th>KEV</th></tr></thead><tbody>');
    for (const f of findings) out.push(row(f, packages.get(String(f.packageId))));
    out.push('</tbody></table>');
  }
  return out.join('\n');
}

function rank(layer: string, order: ReadonlyMap<string, number>): number {
  if (layer === '') return Number.MAX_SAFE_INTEGER;
  return order.get(layer) ?? Number.MAX_SAFE_INTEGER - 1;
}

function row(f: Finding, p: ReportPackage | undefined): string {
  const url = f.links.map(safeUrl).find((u) => u !== null) ?? null;
  const id = url ? `<a href="${escapeHtml(url)}" rel="noreferrer noopener">${escapeHtml(f.vulnerability)}</a>` : escapeHtml(f.vulnerability);
  const aliases = f.aliases.length > 0 ? `<br><span class="muted">${escapeHtml(f.aliases.join(', '))}</span>` : '';
  const source = f.package.sourceName && f.package.sourceName !== f.package.name ? `<br><span class="muted">source ${escapeHtml(f.package.sourceName)}</span>` : '';
  const path = p ? `<br><span class="muted">${escapeHtml(p.path)}</span>` : '';
  const state = `${escapeHtml(f.state.replace(/_/g, ' '))}${f.stateReason ? `<br><span class="muted">${escapeHtml(f.stateReason)}</span>` : ''}`;
  const epss = f.epss ? `${(f.epss.score * 100).toFixed(2)}%` : '';
  return (
    `<tr><td class="v">${escapeHtml(f.package.name)}${source}${path}</td><td class="v">${escapeHtml(f.package.version)}</td><td>${id}${aliases}</td>` +
    `<td><span class="sev" style="background:${COLOUR[f.severity]}">${f.severity}</span>${f.vendorSeverity && f.vendorSeverity.toLowerCase() !== f.severity.toLowerCase() ? `<br><span class="muted">${escapeHtml(f.vendorSeverity)}</span>` : ''}</td>` +
    `<td>${state}</td><td class="v">${escapeHtml(f.fixedVersion ?? '')}</td><td>${epss}</td><td>${f.kev ? '<span class="kev">yes</span>' : ''}</td></tr>`
  );
}

function notes(list: readonly string[]): string {
  return `<h3>Notes</h3><ul class="notes">${list.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`;
}

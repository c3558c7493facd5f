import { createHash } from 'node:crypto';
import { SEVERITIES, type Severity } from '../../ecosystems/vulnerability-record.ts';
import type { Finding } from '../finding.ts';
import type { ImageReport, IndexReport, ReportPackage } from '../image-report.ts';
import { platformText } from './report-text.ts';
import { SEVERITY_SCORE } from './severity-score.ts';

/** The SARIF 2.1.0 schema a log names. */
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** SARIF result levels. */
export type SarifLevel = 'error' | 'warning' | 'note' | 'none';

/** The parts of a SARIF 2.1.0 log this renderer writes. */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

export interface SarifRun {
  tool: { driver: { name: string; version: string; semanticVersion?: string; rules: SarifRule[] } };
  results: SarifResult[];
  columnKind: 'utf16CodeUnits';
  properties: Record<string, unknown>;
}

export interface SarifRule {
  id: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  helpUri?: string;
  help: { text: string; markdown: string };
  defaultConfiguration: { level: SarifLevel };
  properties: { 'security-severity': string; tags: string[]; precision: 'very-high' };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  kind: 'fail';
  message: { text: string };
  locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number; endLine: number; endColumn: number } } }>;
  partialFingerprints: Record<string, string>;
  properties: Record<string, unknown>;
}

/** Options of {@link renderSarif}. */
export interface SarifOptions {
  /** The tool name in the log (default `Lookout`). */
  toolName?: string;
  /** The tool version (default the matcher's version). */
  toolVersion?: string;
}

const MAX_TEXT = 4000;

/** Critical and High are errors, Medium warnings, the rest notes. */
export function sarifLevel(severity: Severity): SarifLevel {
  return severity === 'Critical' || severity === 'High' ? 'error' : severity === 'Medium' ? 'warning' : 'note';
}

/**
 * A SARIF 2.1.0 log of a report, for code scanning: one run (an index's platforms share it);
 * rules are vulnerabilities, each with `properties['security-severity']` (a string score of the
 * most severe finding's severity, see `SEVERITY_SCORE`) and tags; results are findings, at the
 * package database or manifest they were read from (a relative URI), with a partial fingerprint
 * that stays the same across scans of new image versions (vulnerability, package, path, platform).
 */
export function renderSarif(report: ImageReport | IndexReport, options: SarifOptions = {}): SarifLog {
  const images = report.kind === 'index' ? report.manifests : [report];
  const rules: SarifRule[] = [];
  const ruleIndex = new Map<string, number>();
  const ruleSeverity = new Map<string, Severity>();
  const results: SarifResult[] = [];
  for (const image of images) {
    const packages = new Map(image.packages.map((p) => [String(p.id), p]));
    const platform = platformText(image);
    for (const f of image.findings) {
      let index = ruleIndex.get(f.vulnerability);
      if (index === undefined) {
        index = rules.length;
        ruleIndex.set(f.vulnerability, index);
        rules.push(rule(f));
      }
      const worst = ruleSeverity.get(f.vulnerability);
      if (worst === undefined || SEVERITIES.indexOf(f.severity) > SEVERITIES.indexOf(worst)) {
        ruleSeverity.set(f.vulnerability, f.severity);
        setRuleSeverity(rules[index]!, f.severity);
      }
      results.push(result(f, index, packages.get(String(f.packageId)), platform, image.image.digest));
    }
  }
  const version = options.toolVersion ?? (report.kind === 'index' ? (report.manifests[0]?.matcher.version ?? '0') : report.matcher.version);
  const driver: SarifRun['tool']['driver'] = { name: options.toolName ?? 'Lookout', version, rules };
  if (/^\d+\.\d+\.\d+/.test(version)) driver.semanticVersion = version;
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver },
        results,
        columnKind: 'utf16CodeUnits',
        properties: {
          imageDigest: report.kind === 'index' ? report.index.digest : report.image.digest,
          reference: report.kind === 'index' ? report.index.reference : report.image.reference,
          generatedAt: report.generatedAt,
          vulnerabilityDatabaseGeneration: report.vulnerabilityDatabase.generation,
        },
      },
    ],
  };
}

function rule(f: Finding): SarifRule {
  const description = clip(f.description ?? '');
  const firstSentence = description.split(/(?<=\.)\s/)[0] ?? '';
  const link = f.links.find((l) => /^https?:\/\//.test(l));
  const out: SarifRule = {
    id: f.vulnerability,
    shortDescription: { text: clip(firstSentence ? `${f.vulnerability}: ${firstSentence}` : f.vulnerability, 1000) },
    fullDescription: { text: description || f.vulnerability },
    help: { text: '', markdown: '' },
    defaultConfiguration: { level: sarifLevel(f.severity) },
    properties: { 'security-severity': '', tags: [], precision: 'very-high' },
  };
  if (link) out.helpUri = link;
  const aliases = f.aliases.length > 0 ? ` (also ${f.aliases.join(', ')})` : '';
  out.help.text = clip(`Vulnerability ${f.vulnerability}${aliases}. ${description}${f.links.length > 0 ? `\nReferences: ${f.links.join(' ')}` : ''}`);
  out.help.markdown = clip(
    `**${md(f.vulnerability)}**${md(aliases)}\n\n${md(description)}${f.links.length > 0 ? `\n\n${f.links.filter((l) => /^https?:\/\//.test(l)).map((l) => `- <${l.replace(/[<>]/g, '')}>`).join('\n')}` : ''}`,
  );
  setRuleSeverity(out, f.severity);
  return out;
}

function setRuleSeverity(r: SarifRule, severity: Severity): void {
  r.defaultConfiguration.level = sarifLevel(severity);
  r.properties['security-severity'] = SEVERITY_SCORE[severity].toFixed(1);
  r.properties.tags = ['security', 'vulnerability', severity.toLowerCase()];
}

function result(f: Finding, ruleIndex: number, p: ReportPackage | undefined, platform: string | null, digest: string): SarifResult {
  const fix = f.fixedVersion !== null ? `fixed in ${f.fixedVersion}` : `no fixed version (${f.state.replace(/_/g, ' ')}${f.stateReason ? `: ${f.stateReason}` : ''})`;
  const path = p?.path ?? 'unknown';
  const fingerprint = createHash('sha256').update([f.vulnerability, f.package.ecosystem, f.package.name, path, platform ?? ''].join('\u0000')).digest('hex');
  return {
    ruleId: f.vulnerability,
    ruleIndex,
    level: sarifLevel(f.severity),
    kind: 'fail',
    message: { text: clip(`Package ${f.package.name} ${f.package.version} (${f.package.ecosystem}) is affected by ${f.vulnerability}, severity ${f.severity}; ${fix}.`) },
    locations: [{ physicalLocation: { artifactLocation: { uri: pathUri(path) }, region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 } } }],
    partialFingerprints: { 'lookoutFinding/v1': fingerprint },
    properties: {
      packageName: f.package.name,
      installedVersion: f.package.version,
      ecosystem: f.package.ecosystem,
      fixedVersion: f.fixedVersion,
      state: f.state,
      severity: f.severity,
      layer: p?.introducedIn ?? null,
      platform,
      imageDigest: digest,
    },
  };
}

/** A relative URI reference for a layer path (each segment percent-encoded). */
function pathUri(path: string): string {
  return path.split('/').filter((s) => s !== '' && s !== '.' && s !== '..').map(encodeURIComponent).join('/') || 'unknown';
}

/** Markdown-inert text: characters Markdown or HTML would act on are escaped. */
function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+!|<>&~]/g, (c) => `\\${c}`);
}

function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

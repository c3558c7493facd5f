import { SEVERITIES, type Severity } from '../../ecosystems/vulnerability-record.ts';
import type { ImageReport } from '../image-report.ts';
import type { ReportSummary } from '../report-summary.ts';

/**
 * Text from an image (package names, versions, vendor words) made safe for a terminal or a plain
 * text file: control characters (ANSI escapes, carriage returns, NULs) become `?`, line breaks a space.
 */
export function plain(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

/** `linux/arm64/v8`, or null when the report has no platform. */
export function platformText(report: Pick<ImageReport, 'image'>): string | null {
  const p = report.image.platform;
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : null;
}

/** `Ubuntu 18.04.6 LTS (ubuntu:bionic)`, or null without a distribution. */
export function distributionText(report: Pick<ImageReport, 'image'>): string | null {
  const d = report.image.distribution;
  if (d === null) return null;
  const name = d.prettyName ?? [d.name ?? d.did, d.versionId].filter(Boolean).join(' ');
  return d.key ? `${name} (${d.key})` : `${name} (no feed)`;
}

/** `12: 1 Critical, 3 High, … · 7 fixable`, severities most severe first. */
export function summaryText(summary: ReportSummary): string {
  const counts = [...SEVERITIES].reverse().map((s) => `${summary.bySeverity[s]} ${s}`);
  return `${summary.total}: ${counts.join(', ')} · ${summary.fixable} fixable`;
}

/** What was left out, in words (`1 finding in kernel header packages · 2 third-party packages`), or null when nothing was. */
export function suppressedText(summary: ReportSummary): string | null {
  const s = summary.suppressed;
  const parts: string[] = [];
  const k = s['kernel-headers'].findings ?? 0;
  if (k > 0) parts.push(`${k} finding${k === 1 ? '' : 's'} in kernel header packages`);
  const tp = s['third-party'].packages;
  if (tp > 0) parts.push(`${tp} third-party package${tp === 1 ? '' : 's'}`);
  const owned = s['owned-by-os-package'].packages;
  if (owned > 0) parts.push(`${owned} language package${owned === 1 ? '' : 's'} matched through ${owned === 1 ? 'its' : 'their'} OS package`);
  const vex = s.vex?.findings ?? 0;
  if (vex > 0) parts.push(`${vex} finding${vex === 1 ? '' : 's'} closed by VEX statements`);
  const accepted = s.exception?.findings ?? 0;
  if (accepted > 0) parts.push(`${accepted} finding${accepted === 1 ? '' : 's'} accepted by exceptions`);
  return parts.length === 0 ? null : parts.join(' · ');
}

/** `12 of 20 findings (60%) go away with package updates`, and where they come from when the base image is known. */
export function remediationText(report: Pick<ImageReport, 'remediation'>): string | null {
  const r = report.remediation;
  if (!r || r.findings === 0) return null;
  const pct = Math.round(r.fixableShare * 100);
  let text = `${r.fixable} of ${r.findings} finding${r.findings === 1 ? '' : 's'} (${pct}%) go away with package updates`;
  if (r.base !== null) text += ` · base image ${r.base.digest.slice(0, 19)} (${r.base.layers} layer${r.base.layers === 1 ? '' : 's'}) brings ${r.byOrigin.base}, the image's own layers ${r.byOrigin.own}`;
  else text += ' · base image unknown';
  return text;
}

/** `3 High, 1 Low` for counts by severity, most severe first, zeros left out. */
export function severityCountText(counts: Readonly<Record<Severity, number>>): string {
  return SEVERITIES_DESC.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(', ');
}

/** Severities most severe first. */
export const SEVERITIES_DESC: readonly Severity[] = [...SEVERITIES].reverse();

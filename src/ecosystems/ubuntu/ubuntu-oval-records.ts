import { criteriaLeaves } from '../oval/criteria-branches.ts';
import { isoDate } from '../oval/iso-date.ts';
import { makeRecord, uniqueStrings } from '../oval/make-record.ts';
import { cvssScore } from '../oval/oval-cvss.ts';
import type { OvalCriterion, OvalDefinition } from '../oval/oval-definition.ts';
import { normalizeVendorSeverity } from '../oval/vendor-severity.ts';
import { xmlAttr, xmlChildren, xmlChildText } from '../oval/xml-element.ts';
import type { CvssScore, FindingState, VulnerabilityRecord } from '../vulnerability-record.ts';
import { mergeSameKey } from '../oval/merge-same-key.ts';
import { dpkgVersion } from '../dpkg/dpkg-version.ts';

/** The state of one package criterion, read from Canonical's wording of it. */
export interface UbuntuCriterionState {
  state: FindingState;
  /** The Ubuntu CVE tracker status the wording stands for (`needed`, `deferred`, `ignored`, …), when it says one. */
  reason: string | null;
  /** The `(note: '…')` of the comment: a fixed version, or a date for deferred fixes. */
  note: string | null;
}

/**
 * The state a Canonical CVE OVAL criterion comment describes. The OVAL test itself only says
 * "installed and older than V" or "installed"; the tracker status lives in the comment:
 * - "was vulnerable but has been fixed (note: 'V')", "… is related to the CVE in some way and has been fixed (note: 'V')" → fixed
 * - "was vulnerable and has been fixed, but no release version available for it" → fixed, no version (`released`)
 * - "is affected. An update containing the fix has been completed and is pending publication (note: 'V')" → not_fixed (`pending`)
 * - "is affected and needs fixing" → not_fixed (`needed`)
 * - "is affected and may need fixing" → under_investigation (`needs-triage`)
 * - "… a decision has been made to defer addressing it" → fix_deferred (`deferred`)
 * - "… a decision has been made to ignore this issue" → will_not_fix (`ignored`)
 * - "… end of life" / "end-of-life" → end_of_life
 * Anything else: fixed when the test has a version bound, else not_fixed (what the OVAL test says).
 */
export function ubuntuCriterionState(comment: string, hasBound: boolean): UbuntuCriterionState {
  const note = /\(note: '([^']*)'\)/.exec(comment)?.[1]?.trim() || null;
  const c = comment.toLowerCase();
  if (c.includes('no release version available')) return { state: 'fixed', reason: 'released', note };
  if (c.includes('pending publication')) return { state: 'not_fixed', reason: 'pending', note };
  if (c.includes('has been fixed')) return { state: 'fixed', reason: null, note };
  if (c.includes('may need fixing')) return { state: 'under_investigation', reason: 'needs-triage', note };
  if (c.includes('needs fixing')) return { state: 'not_fixed', reason: 'needed', note };
  if (c.includes('defer addressing')) return { state: 'fix_deferred', reason: 'deferred', note };
  if (c.includes('decision has been made to ignore')) return { state: 'will_not_fix', reason: 'ignored', note };
  if (c.includes('end of life') || c.includes('end-of-life')) return { state: 'end_of_life', reason: 'end-of-life', note };
  return { state: hasBound ? 'fixed' : 'not_fixed', reason: null, note };
}

/** The source package a criterion is about: Canonical names it in the comments ("curl package in jammy …"). */
export function ubuntuSourcePackage(criterion: OvalCriterion): string | null {
  const comment = criterion.comment ?? '';
  const m = /^(\S+?) package in [a-z]+\b/.exec(comment) ?? /^(\S+?): /.exec(comment);
  if (m) return m[1]!;
  const object = criterion.test?.object?.comment ?? '';
  const o = /^The '([^']+)' package binaries/.exec(object);
  if (o) return o[1]!;
  const t = /^Does the '([^']+)' package exist/.exec(criterion.test?.comment ?? '');
  return t ? t[1]! : null;
}

/** A dpkg version from an OVAL `evr` (Canonical writes `0:1.2-3`; a zero epoch is dropped). */
function ovalDebVersion(evr: string): string {
  const v = evr.trim();
  return v.replace(/^0+:/, '');
}

function looksLikeVersion(text: string | null): text is string {
  return text !== null && /^[0-9][A-Za-z0-9.+~:-]*$/.test(text) && !/^\d{4}-\d{2}-\d{2}$/.test(text);
}

/**
 * The records of one Canonical CVE OVAL definition (class `vulnerability`): one per source package
 * and state, keyed by SOURCE package like Debian (`packageKind: 'source'`), in `ubuntu:<codename>`.
 *
 * Canonical's tests name the binaries of a source package through a constant variable; the binary
 * list is today's, so older or renamed binaries of the same source would be missed, while every
 * binary in a dpkg database names its source. The source name comes from the criterion comment
 * (or the object comment "The 'x' package binaries"); when none can be told, one binary record is
 * made per name of the variable instead. Kernel criteria (uname / variable tests) are skipped.
 */
export function ubuntuOvalRecords(definition: OvalDefinition, fallbackCodename: string | null, updater = 'ubuntu'): VulnerabilityRecord[] {
  if (definition.class !== 'vulnerability' || definition.criteria === null) return [];
  const codename = /^oval:com\.ubuntu\.([a-z]+):def:/.exec(definition.id)?.[1] ?? fallbackCodename;
  if (!codename) return [];
  const cveRef = definition.references.find((r) => r.source?.toUpperCase() === 'CVE' && r.refId);
  const name = cveRef?.refId ?? /\b(CVE-\d{4}-\d+)\b/.exec(definition.title)?.[1] ?? definition.title.split(/\s+/)[0] ?? '';
  if (name === '') return [];

  const advisory = definition.advisory;
  const cves = xmlChildren(advisory, 'cve');
  const cveElement = cves.find((c) => c.text.trim() === name) ?? cves[0] ?? null;
  const severityWord =
    xmlChildText(advisory, 'severity') ?? xmlAttr(cveElement, 'priority') ?? /- (\w+)\.?$/.exec(definition.title)?.[1] ?? null;
  const cvss: CvssScore[] = [];
  const score = cvssScore(xmlAttr(cveElement, 'cvss_vector'), xmlAttr(cveElement, 'cvss_score'));
  if (score) cvss.push(score);
  const base = {
    updater,
    name,
    ecosystem: 'dpkg',
    distribution: `ubuntu:${codename}`,
    vendorSeverity: severityWord,
    normalizedSeverity: normalizeVendorSeverity(severityWord),
    severitySource: severityWord ? 'vendor' : null,
    cvss,
    description: definition.description === '' ? null : definition.description,
    links: uniqueStrings([
      ...definition.references.map((r) => r.refUrl),
      xmlAttr(cveElement, 'href'),
      ...xmlChildren(advisory, 'ref').map((r) => r.text),
      ...xmlChildren(advisory, 'bug').map((r) => r.text),
    ]),
    publishedAt: isoDate(xmlChildText(advisory, 'public_date') ?? xmlAttr(cveElement, 'public')),
  };

  const out: VulnerabilityRecord[] = [];
  const seen = new Set<string>();
  for (const criterion of criteriaLeaves(definition.criteria)) {
    const test = criterion.test;
    if (test !== null && test.type !== 'dpkginfo_test') continue;
    const evr = test?.states.map((s) => s.fields.evr).find((f) => f !== undefined && f.value !== '' && (f.operation ?? 'less than') === 'less than');
    const judged = ubuntuCriterionState(criterion.comment ?? '', evr !== undefined);
    let fixedVersion: string | null = evr ? ovalDebVersion(evr.value) : null;
    if (fixedVersion === null && (judged.state === 'fixed' || judged.reason === 'pending') && looksLikeVersion(judged.note)) fixedVersion = ovalDebVersion(judged.note);
    if (judged.state !== 'fixed' && judged.reason !== 'pending') fixedVersion = null;
    const source = ubuntuSourcePackage(criterion);
    const targets: Array<{ packageName: string; packageKind: 'source' | 'binary' }> =
      source !== null ? [{ packageName: source, packageKind: 'source' }] : (test?.object?.names ?? []).map((n) => ({ packageName: n, packageKind: 'binary' as const }));
    for (const target of targets) {
      const key = `${target.packageKind}\u0000${target.packageName}\u0000${judged.state}\u0000${fixedVersion ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(makeRecord({ ...base, ...target, state: judged.state, stateReason: judged.reason, fixedVersion }));
    }
  }
  return mergeSameKey(out, dpkgVersion);
}

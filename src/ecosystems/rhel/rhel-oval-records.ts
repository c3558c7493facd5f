import { advisoryCves, advisoryFields, affectedCpes } from '../oval/oval-advisory.ts';
import type { OvalDefinition } from '../oval/oval-definition.ts';
import { makeRecord } from '../oval/make-record.ts';
import { isLessThan, rpmDefinitionEntries, type RpmEntry } from '../oval/rpm-definition-entries.ts';
import { isoDate } from '../oval/iso-date.ts';
import { xmlAttr, xmlChildren } from '../oval/xml-element.ts';
import type { FindingState, VulnerabilityRecord } from '../vulnerability-record.ts';
import { mergeSameKey } from '../oval/merge-same-key.ts';
import { rpmVersion } from '../rpm/rpm-version.ts';

/** The RHEL major release of a package entry, from its branch's release check ("Red Hat Enterprise Linux 8 is installed", `^8[^\d]`). */
export function rhelRelease(entry: RpmEntry): string | null {
  for (const p of entry.platforms) {
    const fromComment = /Red Hat Enterprise Linux (\d+) is installed/.exec(p.comment ?? '')?.[1];
    if (fromComment) return fromComment;
    if ((p.name ?? '').includes('redhat-release')) {
      const m = /^\^?(\d+)/.exec(p.version ?? '');
      if (m) return m[1]!;
    }
  }
  return null;
}

/** A Red Hat resolution word (`<resolution state="Will not fix">`) in the common state model. */
export function redHatResolutionState(word: string | null | undefined): FindingState {
  switch ((word ?? '').trim().toLowerCase()) {
    case 'will not fix':
      return 'will_not_fix';
    case 'fix deferred':
      return 'fix_deferred';
    case 'out of support scope':
      return 'end_of_life';
    case 'under investigation':
      return 'under_investigation';
    case 'not affected':
      return 'not_affected';
    default:
      return 'not_fixed';
  }
}

export interface RhelOvalRecordOptions {
  /** The release to assume when a branch does not say (from the file's `RHEL<N>/` folder). */
  fallbackRelease?: string | null;
  updater?: string;
}

/**
 * The records of one Red Hat OVAL v2 definition, in `rhel:N`, one per affected CPE (`repository`;
 * null when the definition lists none), package and module stream:
 * - `patch` definitions (RHSA/RHBA/RHEA) are named by the advisory, CVEs as aliases, state `fixed`
 *   with the `evr less than` bound as fixed version;
 * - `vulnerability` definitions (the "including-unpatched" files) are named by the CVE; packages
 *   with no bound are not fixed, or what `<resolution state>` says for the component
 *   (Will not fix, Fix deferred, Out of support scope, …), the vendor's words kept in `stateReason`.
 * Kernel packages are kept (the matcher decides what applies to a container).
 */
export function rhelOvalRecords(definition: OvalDefinition, options: RhelOvalRecordOptions = {}): VulnerabilityRecord[] {
  const cves = advisoryCves(definition);
  let name: string | null;
  if (definition.class === 'patch') {
    name =
      definition.references.find((r) => /^RH[SBE]A$/i.test(r.source ?? '') && r.refId)?.refId ?? /\bRH[SBE]A-\d{4}:\d+\b/.exec(definition.title)?.[0] ?? null;
  } else if (definition.class === 'vulnerability') {
    name = cves[0]?.id ?? /\bCVE-\d{4}-\d{4,}\b/.exec(definition.title)?.[0] ?? null;
  } else return [];
  if (name === null) return [];

  const resolutions = new Map<string, string>();
  for (const affected of xmlChildren(definition.advisory, 'affected')) {
    for (const resolution of xmlChildren(affected, 'resolution')) {
      const state = xmlAttr(resolution, 'state');
      if (state === null) continue;
      for (const component of xmlChildren(resolution, 'component')) resolutions.set(component.text.trim(), state);
    }
  }
  const cpes = affectedCpes(definition);
  const fields = advisoryFields(definition, options.updater ?? 'rhel-oval', name, cves);
  // a definition without an issue date is dated by its first CVE's publication
  const base = { ...fields, ecosystem: 'rpm', publishedAt: fields.publishedAt ?? isoDate(xmlAttr(xmlChildren(definition.advisory, 'cve')[0], 'public')) };

  const out: VulnerabilityRecord[] = [];
  const seen = new Set<string>();
  for (const entry of rpmDefinitionEntries(definition)) {
    const release = rhelRelease(entry) ?? options.fallbackRelease ?? null;
    if (release === null) continue;
    let state: FindingState;
    let stateReason: string | null = null;
    let fixedVersion: string | null = null;
    if (entry.evr !== null) {
      if (!isLessThan(entry.operation)) continue;
      state = 'fixed';
      fixedVersion = entry.evr;
    } else {
      if (definition.class === 'patch') continue;
      const word = resolutions.get(entry.packageName) ?? null;
      state = redHatResolutionState(word);
      stateReason = word;
    }
    for (const repository of cpes.length > 0 ? cpes : [null]) {
      const key = [release, repository, entry.module, entry.packageName, state, fixedVersion, entry.arch].join('\u0000');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(
        makeRecord({
          ...base,
          distribution: `rhel:${release}`,
          repository,
          module: entry.module,
          packageName: entry.packageName,
          arch: entry.arch,
          fixedVersion,
          state,
          stateReason,
        }),
      );
    }
  }
  return mergeSameKey(out, rpmVersion);
}

import type { VulnerabilityRecord } from '../vulnerability-record.ts';

/** The fields every record must say; the rest default to "not known". */
export type RecordCore = Pick<VulnerabilityRecord, 'updater' | 'name' | 'ecosystem' | 'distribution' | 'packageName' | 'state'>;

/**
 * A {@link VulnerabilityRecord} from its core fields plus any others: no aliases, repository,
 * module, arch, range, fixed version, reason, severity (Unknown), CVSS, description, links or dates
 * unless given; package kind `binary` unless given.
 */
export function makeRecord(core: RecordCore & Partial<VulnerabilityRecord>): VulnerabilityRecord {
  return {
    aliases: [],
    repository: null,
    module: null,
    packageKind: 'binary',
    arch: null,
    affectedRange: null,
    fixedVersion: null,
    stateReason: null,
    vendorSeverity: null,
    normalizedSeverity: 'Unknown',
    severitySource: null,
    cvss: [],
    description: null,
    links: [],
    publishedAt: null,
    modifiedAt: null,
    ...core,
  };
}

/** `values` without empty strings and duplicates, first occurrence kept. */
export function uniqueStrings(values: ReadonlyArray<string | null | undefined>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    const t = v?.trim() ?? '';
    if (t === '' || seen.has(t)) continue;
    seen.add(t);
    out.push(t);
  }
  return out;
}

/** One OSV ecosystem Lookout ingests: its OSV name, Lookout's ecosystem value and the name normalization. */
export interface OsvEcosystem {
  /** The OSV ecosystem name (the bulk export's folder): `PyPI`, `npm`, `Go`, `Maven`, `RubyGems`, `crates.io`. */
  osv: string;
  /** Lookout's `ecosystem` value for the records. */
  ecosystem: 'pypi' | 'npm' | 'go' | 'maven' | 'gem' | 'cargo';
  /** The updater name, `osv-<ecosystem>` (also its config key). */
  updater: string;
  /** The package name as the matcher looks it up (PEP 503 for PyPI, `group:artifact` for Maven). */
  normalize(name: string): string;
}

/** PEP 503: lowercase, runs of `-`, `_`, `.` folded to one `-`. */
export function pep503(name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
}

const same = (name: string): string => name.trim();

/** The language ecosystems of OSV's bulk exports that Lookout ingests. */
export const OSV_ECOSYSTEMS: readonly OsvEcosystem[] = [
  { osv: 'npm', ecosystem: 'npm', updater: 'osv-npm', normalize: same },
  { osv: 'PyPI', ecosystem: 'pypi', updater: 'osv-pypi', normalize: pep503 },
  { osv: 'Go', ecosystem: 'go', updater: 'osv-go', normalize: same },
  { osv: 'Maven', ecosystem: 'maven', updater: 'osv-maven', normalize: (n) => n.trim().replace(/\s*:\s*/g, ':') },
  { osv: 'RubyGems', ecosystem: 'gem', updater: 'osv-gem', normalize: same },
  { osv: 'crates.io', ecosystem: 'cargo', updater: 'osv-cargo', normalize: same },
];

/** Looks an ecosystem up by its OSV name, Lookout value or updater name (case-insensitive). */
export function findOsvEcosystem(key: string): OsvEcosystem | undefined {
  const k = key.trim().toLowerCase();
  return OSV_ECOSYSTEMS.find((e) => e.osv.toLowerCase() === k || e.ecosystem === k || e.updater === k);
}

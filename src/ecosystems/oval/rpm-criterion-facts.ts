import type { OvalAtom } from './criteria-branches.ts';
import type { OvalField, OvalState } from './oval-definition.ts';

/** A package constraint: `name` installed, with `evr` compared by `operation` when a state gives one. */
export interface RpmPackageFact {
  kind: 'package';
  name: string;
  /** The state's `evr` text as written, or null for an existence test ("X is installed"). */
  evr: string | null;
  operation: string | null;
  /** The state's `arch` (a name or a pattern, see `archOperation`), when the state has one. */
  arch: string | null;
  archOperation: string | null;
  negate: boolean;
  /** True when read from the criterion comment because the feed does not define the test. */
  fromComment: boolean;
}

/** A release check: a release package (or file) with a version (`sles-release` `equals 15.1`, `^8[^\d]`). */
export interface RpmPlatformFact {
  kind: 'platform';
  name: string | null;
  version: string | null;
  operation: string | null;
  comment: string | null;
}

/** What one criterion says, in rpm-feed terms. */
export type RpmFact =
  | RpmPackageFact
  | RpmPlatformFact
  | { kind: 'signature'; name: string | null; keyId: string | null }
  | { kind: 'arch'; arch: string; operation: string | null }
  | { kind: 'release'; name: string | null; pattern: string }
  | { kind: 'module'; module: string }
  | { kind: 'other'; comment: string | null };

export interface RpmFactOptions {
  /**
   * Read the criterion comment when the feed does not define the test or its object (`X is earlier than E`,
   * `X is signed with …`, `… arch is A`, `X is ksplice-based`, `Module M is enabled`, `… is installed`),
   * the way Oracle and Red Hat word them. Off by default: a defined test always wins.
   */
  commentFallback?: boolean;
}

/**
 * Classifies one leaf of an rpm OVAL definition (Red Hat, Oracle, SUSE, Photon, Mariner style):
 * rpminfo tests with an `evr` state are package constraints, with only a `signature_keyid` a
 * signature check, with `release` a release pattern (ksplice), with only `arch` an arch check, with
 * only `version` (or a `*-release` object and no state) a platform check; rpminfo tests without a
 * state on other objects are existence tests ("X is installed"); rpmverifyfile tests are platform
 * checks; textfilecontent tests worded "Module M is enabled" are module checks.
 */
export function rpmCriterionFacts(atom: OvalAtom, options: RpmFactOptions = {}): RpmFact[] {
  if (atom.kind !== 'criterion') return [{ kind: 'other', comment: atom.comment }];
  const test = atom.test;
  if (test === null || (options.commentFallback && test.object === null && test.type === 'rpminfo_test')) {
    return options.commentFallback ? fromComment(atom.comment, atom.negate) : [{ kind: 'other', comment: atom.comment }];
  }
  const comment = atom.comment ?? test.comment;
  const field = (name: string): OvalField | null => firstField(test.states, name);
  switch (test.type) {
    case 'rpminfo_test': {
      const names = test.object?.names ?? [];
      const evr = field('evr');
      if (evr) {
        const arch = field('arch');
        return names.map((name) => ({
          kind: 'package',
          name,
          evr: evr.value,
          operation: evr.operation,
          arch: arch?.value || null,
          archOperation: arch?.operation ?? null,
          negate: atom.negate,
          fromComment: false,
        }));
      }
      const key = field('signature_keyid');
      if (key) return [{ kind: 'signature', name: names[0] ?? null, keyId: key.value || null }];
      const release = field('release');
      if (release) return [{ kind: 'release', name: names[0] ?? null, pattern: release.value }];
      const arch = field('arch');
      if (arch && arch.value !== '') return [{ kind: 'arch', arch: arch.value, operation: arch.operation }];
      const version = field('version');
      if (version) return [{ kind: 'platform', name: names[0] ?? null, version: version.value, operation: version.operation, comment }];
      if (test.states.length === 0) {
        return names.map((name): RpmFact =>
          name.endsWith('-release')
            ? { kind: 'platform', name, version: null, operation: null, comment }
            : { kind: 'package', name, evr: null, operation: null, arch: null, archOperation: null, negate: atom.negate, fromComment: false },
        );
      }
      return [{ kind: 'other', comment }];
    }
    case 'rpmverifyfile_test': {
      const name = field('name');
      const version = field('version');
      return [{ kind: 'platform', name: name?.value || null, version: version?.value || null, operation: version?.operation ?? null, comment }];
    }
    case 'textfilecontent54_test':
    case 'textfilecontent_test': {
      const m = /^Module (\S+) is enabled$/.exec(comment ?? '');
      return [m ? { kind: 'module', module: m[1]! } : { kind: 'other', comment }];
    }
    default:
      return [{ kind: 'other', comment }];
  }
}

function firstField(states: readonly OvalState[], name: string): OvalField | null {
  for (const s of states) {
    const f = s.fields[name];
    if (f) return f;
  }
  return null;
}

function fromComment(comment: string | null, negate: boolean): RpmFact[] {
  const c = comment?.trim() ?? '';
  let m: RegExpExecArray | null;
  if ((m = /^(\S+) is earlier than (\S+)$/.exec(c))) {
    return [{ kind: 'package', name: m[1]!, evr: m[2]!, operation: 'less than', arch: null, archOperation: null, negate, fromComment: true }];
  }
  if ((m = /^(\S+) is signed with /.exec(c))) return [{ kind: 'signature', name: m[1]!, keyId: null }];
  if ((m = /^\S.* arch is (\S+)$/.exec(c))) return [{ kind: 'arch', arch: m[1]!, operation: null }];
  if ((m = /^(\S+) is ksplice-based$/.exec(c))) return [{ kind: 'release', name: m[1]!, pattern: 'ksplice' }];
  if ((m = /^Module (\S+) is enabled$/.exec(c))) return [{ kind: 'module', module: m[1]! }];
  if (/ is installed$/.test(c)) return [{ kind: 'platform', name: null, version: null, operation: null, comment: c }];
  return [{ kind: 'other', comment: c === '' ? null : c }];
}

/** A branch of an rpm definition's criteria, its leaves sorted by kind. */
export interface RpmBranch {
  packages: RpmPackageFact[];
  platforms: RpmPlatformFact[];
  /** Arch checks of the branch (Oracle "… arch is aarch64"). */
  arches: string[];
  modules: string[];
  /** Release patterns the installed package must match (Oracle ksplice). */
  releasePatterns: string[];
  signatures: Array<{ name: string | null; keyId: string | null }>;
}

/** Sorts the leaves of one criteria branch (see {@link rpmCriterionFacts}). */
export function rpmBranch(branch: readonly OvalAtom[], options: RpmFactOptions = {}): RpmBranch {
  const out: RpmBranch = { packages: [], platforms: [], arches: [], modules: [], releasePatterns: [], signatures: [] };
  for (const atom of branch) {
    for (const fact of rpmCriterionFacts(atom, options)) {
      switch (fact.kind) {
        case 'package':
          out.packages.push(fact);
          break;
        case 'platform':
          out.platforms.push(fact);
          break;
        case 'arch':
          out.arches.push(fact.arch);
          break;
        case 'module':
          out.modules.push(fact.module);
          break;
        case 'release':
          out.releasePatterns.push(fact.pattern);
          break;
        case 'signature':
          out.signatures.push({ name: fact.name, keyId: fact.keyId });
          break;
        default:
      }
    }
  }
  return out;
}

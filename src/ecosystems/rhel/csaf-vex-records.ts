import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { isoDate } from '../oval/iso-date.ts';
import { makeRecord, uniqueStrings } from '../oval/make-record.ts';
import { cvssScore } from '../oval/oval-cvss.ts';
import { rpmEvr } from '../oval/rpm-evr.ts';
import { normalizeVendorSeverity } from '../oval/vendor-severity.ts';
import type { CvssScore, FindingState, VulnerabilityRecord } from '../vulnerability-record.ts';
import { parsePackageUrl } from './package-url.ts';
import { rhelDistributionFromCpe } from './rhel-cpe.ts';
import { mergeSameKey } from '../oval/merge-same-key.ts';
import { rpmVersion } from '../rpm/rpm-version.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** What a product id of the product tree stands for. */
interface Product {
  name: string | null;
  cpe: string | null;
  purl: string | null;
}

const STATUSES = ['fixed', 'known_affected', 'known_not_affected', 'under_investigation'] as const;
const RPM_NAME = /^[A-Za-z0-9._+-]+$/;

/**
 * The state of a `known_affected` product from its remediation: `none_available` (`Affected`,
 * `Fix deferred`, `Under investigation`) and `no_fix_planned` (`Will not fix`, `Out of support
 * scope`) as Red Hat words them; a product without a remediation is not fixed.
 */
export function knownAffectedState(category: string | null, details: string | null): FindingState {
  const d = (details ?? '').trim().toLowerCase();
  if (d === 'fix deferred') return 'fix_deferred';
  if (d === 'will not fix') return 'will_not_fix';
  if (d === 'out of support scope') return 'end_of_life';
  if (d === 'under investigation') return 'under_investigation';
  if (category === 'no_fix_planned') return 'will_not_fix';
  return 'not_fixed';
}

/** `name:stream` of an `rpmmod` qualifier (`nodejs:18:8090020230810123456:a75119d5` → `nodejs:18`), or null when malformed. */
export function moduleFromRpmmod(rpmmod: string): string | null {
  const [name = '', stream = ''] = rpmmod.split(':');
  return name !== '' && stream !== '' && RPM_NAME.test(name) && RPM_NAME.test(stream) ? `${name}:${stream}` : null;
}

function walkBranches(branches: unknown, products: Map<string, Product>, depth: number, label: string): void {
  if (depth > 32) throw new FeedParseError(`${label}: CSAF product tree nested deeper than 32 branches`);
  for (const b of arrayOf(branches)) {
    if (!isObject(b)) continue;
    addProduct(b.product, products);
    walkBranches(b.branches, products, depth + 1, label);
  }
}

function addProduct(p: unknown, products: Map<string, Product>): void {
  if (!isObject(p)) return;
  const id = str(p.product_id);
  if (id === null) return;
  const helper = isObject(p.product_identification_helper) ? p.product_identification_helper : {};
  products.set(id, { name: str(p.name), cpe: str(helper.cpe), purl: str(helper.purl) });
}

/**
 * The records of one Red Hat CSAF VEX document (one CVE). Each product id of the vulnerability's
 * `product_status` that relates a component to a product with a CPE becomes, for rpm content
 * (`pkg:rpm/redhat/…`; without a purl, a NEVRA product id or a bare component name under a
 * RHEL product), one record:
 * - `fixed` → state fixed, fixed version `[epoch:]version-release` from the purl (epoch qualifier);
 * - `known_affected` → not fixed / fix deferred / will not fix / end of life from the remediation
 *   (see {@link knownAffectedState}), Red Hat's words in `stateReason`;
 * - `known_not_affected` → not affected (the flag label, e.g. `vulnerable_code_not_present`, as reason),
 *   for versionless components only: a record has no way to say "this one build is not affected",
 *   and middleware documents list thousands of such builds;
 * - `under_investigation` → under investigation.
 * `repository` is the product CPE, `distribution` the RHEL release it tells (`rhel:9`, null when
 * none), `module` the `rpmmod` stream (`nodejs:18`) or a `name:stream/` product name prefix; purls
 * with `arch=src` are source packages. The impact threat gives the vendor severity (document
 * aggregate severity otherwise), the scores the CVSS. Identical records (arches of one build) are
 * merged (`arch: null`); kernel packages are kept. Deleted documents give no records; entries with
 * a malformed module qualifier are skipped, as Clair does.
 */
export function csafVexRecords(document: unknown, label: string, updater = 'rhel-vex'): VulnerabilityRecord[] {
  if (!isObject(document) || !isObject(document.document)) throw new FeedParseError(`${label}: not a CSAF document`);
  const tracking = isObject(document.document.tracking) ? document.document.tracking : {};
  if (str(tracking.status) === 'deleted') return [];
  const docId = str(tracking.id);
  if (docId === null) throw new FeedParseError(`${label}: CSAF document without tracking.id`);
  const aggregate = isObject(document.document.aggregate_severity) ? str(document.document.aggregate_severity.text) : null;
  const modifiedAt = isoDate(str(tracking.current_release_date));

  const products = new Map<string, Product>();
  const relationships = new Map<string, { component: string; platform: string }>();
  const tree = isObject(document.product_tree) ? document.product_tree : {};
  walkBranches(tree.branches, products, 0, label);
  for (const p of arrayOf(tree.full_product_names)) addProduct(p, products);
  for (const r of arrayOf(tree.relationships)) {
    if (!isObject(r) || !isObject(r.full_product_name)) continue;
    const id = str(r.full_product_name.product_id);
    const component = str(r.product_reference);
    const platform = str(r.relates_to_product_reference);
    if (id && component && platform) relationships.set(id, { component, platform });
  }

  const out: VulnerabilityRecord[] = [];
  for (const v of arrayOf(document.vulnerabilities)) {
    if (!isObject(v)) continue;
    const name = str(v.cve) ?? docId;
    const notes = arrayOf(v.notes).filter(isObject);
    const description = str(notes.find((n) => n.category === 'description')?.text) ?? str(notes.find((n) => n.category === 'summary')?.text);
    const links = uniqueStrings(arrayOf(v.references).map((r) => (isObject(r) ? str(r.url) : null)));
    const publishedAt = isoDate(str(v.release_date));

    const impact = new Map<string, string>();
    for (const t of arrayOf(v.threats)) {
      if (!isObject(t) || t.category !== 'impact') continue;
      const details = str(t.details);
      if (details) for (const id of arrayOf(t.product_ids)) if (typeof id === 'string') impact.set(id, details);
    }
    const scores = new Map<string, CvssScore[]>();
    for (const s of arrayOf(v.scores)) {
      if (!isObject(s)) continue;
      const found: CvssScore[] = [];
      for (const key of ['cvss_v4', 'cvss_v3', 'cvss_v2']) {
        const c = s[key];
        if (!isObject(c)) continue;
        const score = cvssScore(str(c.vectorString), typeof c.baseScore === 'number' ? c.baseScore : str(c.baseScore), 'redhat');
        if (score) found.push(score);
      }
      for (const id of arrayOf(s.products)) if (typeof id === 'string') scores.set(id, [...(scores.get(id) ?? []), ...found]);
    }
    const remediation = new Map<string, { category: string | null; details: string | null; url: string | null }>();
    for (const r of arrayOf(v.remediations)) {
      if (!isObject(r)) continue;
      const category = str(r.category);
      if (category === 'workaround' || category === 'mitigation') continue;
      const entry = { category, details: str(r.details), url: str(r.url) };
      for (const id of arrayOf(r.product_ids)) if (typeof id === 'string' && !remediation.has(id)) remediation.set(id, entry);
    }
    const flags = new Map<string, string>();
    for (const f of arrayOf(v.flags)) {
      if (!isObject(f)) continue;
      const labelText = str(f.label);
      if (labelText) for (const id of arrayOf(f.product_ids)) if (typeof id === 'string') flags.set(id, labelText);
    }

    const status = isObject(v.product_status) ? v.product_status : {};
    const seen = new Map<string, VulnerabilityRecord>();
    for (const category of STATUSES) {
      for (const id of arrayOf(status[category])) {
        if (typeof id !== 'string') continue;
        const rel = relationships.get(id);
        if (!rel) continue;
        const cpe = products.get(rel.platform)?.cpe ?? null;
        const component = products.get(rel.component);
        if (cpe === null || component === undefined) continue;
        const distribution = rhelDistributionFromCpe(cpe);

        let packageName: string;
        let module: string | null = null;
        let packageKind: 'binary' | 'source' = 'binary';
        let version: string | null = null;
        let epoch: string | null = null;
        const componentName = component.name ?? rel.component;
        const named = /^([A-Za-z0-9._+-]+):([A-Za-z0-9._+-]+)\/([A-Za-z0-9._+-]+)$/.exec(componentName);
        if (component.purl !== null) {
          const purl = parsePackageUrl(component.purl);
          if (purl === null || purl.type !== 'rpm' || purl.namespace !== 'redhat') continue;
          packageName = purl.name;
          version = purl.version;
          epoch = purl.qualifiers.epoch ?? null;
          if (purl.qualifiers.arch === 'src') packageKind = 'source';
          const rpmmod = purl.qualifiers.rpmmod;
          if (rpmmod !== undefined) {
            module = moduleFromRpmmod(rpmmod);
            if (module === null) continue;
          } else if (named) module = `${named[1]}:${named[2]}`;
        } else {
          // No purl (older documents): a NEVRA product (`telnet-1:0.17-65.el7_6.x86_64`), or a bare
          // component name under a RHEL product, is an rpm.
          const nevra = /^([A-Za-z0-9._+-]+)-(\d+):([A-Za-z0-9._+~^]+)-([A-Za-z0-9._+~^]+)\.([A-Za-z0-9_]+)$/.exec(rel.component);
          if (nevra) {
            packageName = nevra[1]!;
            epoch = nevra[2]!;
            version = `${nevra[3]}-${nevra[4]}`;
            if (nevra[5] === 'src') packageKind = 'source';
          } else if (category === 'fixed' || distribution === null) continue;
          else if (named) {
            module = `${named[1]}:${named[2]}`;
            packageName = named[3]!;
          } else if (RPM_NAME.test(componentName)) packageName = componentName;
          else continue;
        }
        // A build-specific "not affected" cannot be kept without its version: only product-level ones are.
        if (category === 'known_not_affected' && version !== null) continue;

        let state: FindingState;
        let stateReason: string | null = null;
        let fixedVersion: string | null = null;
        const rem = remediation.get(id);
        if (category === 'fixed') {
          if (version === null) continue;
          state = 'fixed';
          fixedVersion = rpmEvr(epoch, version, null);
        } else if (category === 'known_affected') {
          state = knownAffectedState(rem?.category ?? null, rem?.details ?? null);
          stateReason = rem?.details ?? null;
        } else if (category === 'known_not_affected') {
          state = 'not_affected';
          stateReason = flags.get(id) ?? null;
        } else {
          state = 'under_investigation';
        }

        const severity = impact.get(id) ?? aggregate;
        const key = [cpe, module, packageName, packageKind, state, fixedVersion, stateReason, severity].join('\u0000');
        const existing = seen.get(key);
        const cvss = scores.get(id) ?? [];
        const extraLinks = rem?.url && category === 'fixed' ? [rem.url] : [];
        if (existing) {
          for (const s of cvss) if (!existing.cvss.some((c) => c.vector === s.vector)) existing.cvss.push(s);
          for (const l of extraLinks) if (!existing.links.includes(l)) existing.links.push(l);
          continue;
        }
        const record = makeRecord({
          updater,
          name,
          ecosystem: 'rpm',
          distribution,
          repository: cpe,
          module,
          packageName,
          packageKind,
          fixedVersion,
          state,
          stateReason,
          vendorSeverity: severity,
          normalizedSeverity: normalizeVendorSeverity(severity),
          severitySource: severity ? 'vendor' : null,
          cvss: [...cvss],
          description,
          links: uniqueStrings([...links, ...extraLinks]),
          publishedAt,
          modifiedAt,
        });
        seen.set(key, record);
        out.push(record);
      }
    }
  }
  return mergeSameKey(out, rpmVersion);
}

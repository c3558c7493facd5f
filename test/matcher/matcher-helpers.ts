import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { parseSecdb } from '../../src/ecosystems/alpine/parse-secdb.ts';
import { parseDebianTracker } from '../../src/ecosystems/debian/parse-debian-tracker.ts';
import { findOsvEcosystem } from '../../src/ecosystems/osv/osv-ecosystems.ts';
import { osvToRecords } from '../../src/ecosystems/osv/osv-to-records.ts';
import { csafVexRecords } from '../../src/ecosystems/rhel/csaf-vex-records.ts';
import type { FoundPackage } from '../../src/ecosystems/scanner.ts';
import type { Updater } from '../../src/ecosystems/updater.ts';
import type { VulnerabilityRecord } from '../../src/ecosystems/vulnerability-record.ts';
import type { CandidateRecord, MatchPackage } from '../../src/matcher/match-input.ts';
import type { Finding, RecordCheck } from '../../src/matcher/finding.ts';
import type { MatchResult, PackageExplanation } from '../../src/matcher/match-packages.ts';
import type { Lookup } from '../../src/matcher/match-plan.ts';
import { fixture } from '../helpers/fixtures.ts';

/** Drains an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

let nextId = 1;

/** Gives records row ids, as the vulnerability table would (unique across one test process). */
export function withIds(records: readonly VulnerabilityRecord[]): CandidateRecord[] {
  return records.map((r) => ({ ...r, id: nextId++ }));
}

/** The Debian security tracker sample(s), parsed by the real parser, for `releases`. */
export async function debianTrackerRecords(file: string, releases: readonly string[]): Promise<CandidateRecord[]> {
  return withIds(await collect(parseDebianTracker(createReadStream(fixture('feeds', 'debian', file)), { releases: new Set(releases) })));
}

/** Debian tracker JSON written in a test (a hand-made entry), parsed by the real parser. */
export async function debianTrackerText(json: string, releases: readonly string[]): Promise<CandidateRecord[]> {
  return withIds(await collect(parseDebianTracker(Readable.from([json]), { releases: new Set(releases) })));
}

/** A secdb file (Alpine format), parsed by the real parser. */
export async function secdbRecords(input: string | { text: string }, distribution: string, repository: string | null, updater = 'alpine'): Promise<CandidateRecord[]> {
  const stream = typeof input === 'string' ? createReadStream(input) : Readable.from([input.text]);
  return withIds(await collect(parseSecdb(stream, { updater, distribution, repository, what: 'test secdb' })));
}

/** An OSV document from the fixtures, mapped by the real mapper. */
export function osvRecords(ecosystem: string, file: string, now = new Date('2025-01-01T00:00:00Z')): CandidateRecord[] {
  const doc = JSON.parse(readFileSync(fixture('feeds', 'osv', ecosystem, file), 'utf8')) as unknown;
  const eco = findOsvEcosystem(ecosystem);
  if (!eco) throw new Error(`no OSV ecosystem ${ecosystem}`);
  return withIds(osvToRecords(doc, { ecosystem: eco, now }));
}

/** A Red Hat CSAF VEX document from the fixtures (gunzipped when `.gz`), mapped by the real mapper. */
export function vexRecords(file: string): CandidateRecord[] {
  const bytes = readFileSync(fixture('feeds', 'redhat-csaf-vex', file));
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  return withIds(csafVexRecords(JSON.parse(text), file));
}

/** What an updater parses out of `files` (as if its fetch had spooled them). */
export async function updaterRecords(updater: Updater, files: string[]): Promise<CandidateRecord[]> {
  const out = await collect(updater.parse({ fingerprint: 'test', validators: {}, files }));
  return withIds(out.filter((r): r is VulnerabilityRecord => !('kind' in r)));
}

/** Scanner packages as the matcher takes them: ids `<prefix>1…`, all introduced by `layer`. */
export function matchPackagesOf(found: readonly FoundPackage[], prefix: string, layer: string | null = null): MatchPackage[] {
  return found.map((p, i) => ({
    id: `${prefix}${i + 1}`,
    ecosystem: p.ecosystem,
    name: p.name,
    version: p.version,
    sourceName: p.sourceName ?? null,
    sourceVersion: p.sourceVersion ?? null,
    arch: p.arch ?? null,
    module: p.module ?? null,
    vendor: p.vendor ?? null,
    purl: p.purl ?? null,
    path: p.path,
    introducedIn: layer,
  }));
}

/**
 * rpm packages from an `rpm -qa`-style TSV of the fixtures (epoch, name, version, release, arch,
 * sourcerpm, size, license, vendor, modularitylabel, …), as the rpm scanner would report them.
 */
export function rpmPackagesFromTsv(file: string, prefix: string): MatchPackage[] {
  const lines = readFileSync(fixture('pkgdb', 'rpm', file), 'utf8').trim().split('\n').slice(1);
  const evr = (epoch: string, v: string, r: string): string => `${epoch !== '' && epoch !== '0' ? `${epoch}:` : ''}${v}${r === '' ? '' : `-${r}`}`;
  const out: MatchPackage[] = [];
  for (const line of lines) {
    const [epoch = '', name = '', version = '', release = '', arch = '', sourceRpm = '', , , vendor = '', module = ''] = line.split('\t');
    if (name === 'gpg-pubkey' || name === '') continue;
    const src = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(sourceRpm);
    out.push({
      id: `${prefix}${out.length + 1}`,
      ecosystem: 'rpm',
      name,
      version: evr(epoch, version, release),
      sourceName: src?.[1] ?? null,
      sourceVersion: src ? evr(epoch, src[2]!, src[3]!) : null,
      arch: arch || null,
      module: module || null,
      vendor: vendor || null,
      path: 'var/lib/rpm/rpmdb.sqlite',
    });
  }
  return out;
}

/** The package named `name` (exactly one). */
export function pkg(packages: readonly MatchPackage[], name: string): MatchPackage {
  const found = packages.filter((p) => p.name === name);
  if (found.length !== 1) throw new Error(`expected one package ${name}, found ${found.length}`);
  return found[0]!;
}

/** The findings of one package. */
export function findingsOf(result: MatchResult, p: MatchPackage): Finding[] {
  return result.findings.filter((f) => f.packageId === p.id);
}

/** The finding of a package for a vulnerability, or undefined. */
export function finding(result: MatchResult, p: MatchPackage, vulnerability: string): Finding | undefined {
  return result.findings.find((f) => f.packageId === p.id && f.vulnerability === vulnerability);
}

/** The explanation of one package. */
export function explanationOf(result: MatchResult, p: MatchPackage): PackageExplanation {
  const e = result.explanations.find((x) => x.packageId === p.id);
  if (!e) throw new Error(`no explanation for ${p.name}`);
  return e;
}

/** The checks of one package for a vulnerability. */
export function checksOf(result: MatchResult, p: MatchPackage, vulnerability: string): RecordCheck[] {
  return explanationOf(result, p).checks.filter((c) => c.vulnerability === vulnerability);
}

/**
 * What the vulnerability table would answer to a plan's lookups (rows whose ecosystem,
 * distribution and package name match one lookup), as the store runs them in SQL.
 */
export function runLookups(lookups: readonly Lookup[], table: readonly CandidateRecord[]): CandidateRecord[] {
  const out = new Map<string | number, CandidateRecord>();
  for (const l of lookups) {
    const names = new Set(l.packageNames);
    for (const r of table) if (r.ecosystem === l.ecosystem && r.distribution === l.distribution && names.has(r.packageName)) out.set(r.id, r);
  }
  return [...out.values()];
}

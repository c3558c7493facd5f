import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { compare as semverCompare } from 'semver';
import { runVercmpBatch } from '../src/cli/vercmp-command.ts';
import { VERSION_SCHEMES, type VersionScheme, type VersionSchemeName } from '../src/ecosystems/version-scheme.ts';
import { versionScheme } from '../src/ecosystems/version-schemes.ts';
import { fixture, HAVE_FIXTURES } from '../test/helpers/fixtures.ts';
import type { Bench, BenchContext, Reference } from './figure.ts';

/** Pairs compared per scheme and run; the figure is the best of RUNS runs. */
const PAIRS = 100_000;
const RUNS = 2;
/** Pairs given to `dpkg --compare-versions`, one process each. */
const DPKG_PAIRS = 300;

/** The sample file each scheme's pairs come from (valid rows only), when the fixtures are here. */
const SAMPLES: Partial<Record<VersionSchemeName, string>> = {
  dpkg: 'dpkg.tsv',
  rpm: 'rpm.tsv',
  apk: 'apk.tsv',
  pypi: 'pep440.tsv',
  npm: 'semver.tsv',
  maven: 'maven.tsv',
};

/**
 * `vercmp.<scheme>.pairs_per_second`: 100,000 pairs per scheme through `lookout vercmp --batch`'s
 * code path (line splitting, comparison, output), in process. Pairs are the valid rows of the
 * shared version samples, cycled, or generated where there is no sample (Go, RubyGems) or it is
 * tiny (rpm). References measured in the same run where a native tool is here: node-semver's own
 * `compare` (npm), `dpkg --compare-versions` (one process per pair, as scripts call it), pypa
 * packaging's `Version` in CPython, and maven-artifact 3.9's ComparableVersion in the JVM.
 */
const bench: Bench = async (ctx) => {
  for (const name of VERSION_SCHEMES) {
    const scheme = versionScheme(name);
    const { pairs, source } = pairsFor(scheme);
    const input = `${pairs.map(([a, b]) => `${a}\t${b}`).join('\n')}\n`;
    let best = 0;
    for (let run = 0; run < RUNS; run++) best = Math.max(best, await batchRate(scheme, input, pairs.length));
    const { reference, note } = await referenceFor(ctx, name, pairs);
    ctx.emit({
      name: `vercmp.${name}.pairs_per_second`,
      value: Math.round(best),
      unit: 'pairs/s',
      reference,
      ...(note === undefined ? {} : { note }),
      pairs: pairs.length,
      source,
    });
  }
};
export default bench;

async function batchRate(scheme: VersionScheme, input: string, count: number): Promise<number> {
  const sink = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  // 64 KiB chunks, as stdin delivers them.
  const chunks: Buffer[] = [];
  const bytes = Buffer.from(input);
  for (let i = 0; i < bytes.length; i += 65536) chunks.push(bytes.subarray(i, i + 65536));
  const started = performance.now();
  const result = await runVercmpBatch(scheme, Readable.from(chunks), sink);
  const seconds = (performance.now() - started) / 1000;
  if (result.lines !== count) throw new Error(`batch answered ${result.lines} lines for ${count}`);
  return count / seconds;
}

/** PAIRS pairs of valid versions: sample rows cycled, or generated. */
function pairsFor(scheme: VersionScheme): { pairs: Array<[string, string]>; source: string } {
  const sample = SAMPLES[scheme.name];
  let base: Array<[string, string]> = [];
  let source = 'generated';
  if (sample !== undefined && HAVE_FIXTURES) {
    base = readFileSync(fixture('versions-sample', sample), 'utf8')
      .split('\n')
      .slice(1)
      .filter((line) => line !== '')
      .map((line) => line.split('\t') as [string, string])
      .filter(([a, b]) => !/\\[tnu]/.test(a + b) && scheme.isValid(a) && scheme.isValid(b))
      .map(([a, b]): [string, string] => [a, b]);
    source = `versions-sample/${sample}`;
  }
  if (base.length < 100) {
    const generatedPairs = generate(scheme.name, 2000);
    source = base.length > 0 ? `${source} + generated` : 'generated';
    base = [...base, ...generatedPairs];
  }
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < PAIRS; i++) pairs.push(base[i % base.length]!);
  return { pairs, source };
}

/** Deterministic realistic versions per scheme (mulberry32 PRNG). */
function generate(name: VersionSchemeName, count: number): Array<[string, string]> {
  let seed = 0xbe4c;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const n = (max: number): number => Math.floor(random() * max);
  const pick = <T>(items: readonly T[]): T => items[n(items.length)]!;
  const semver = (): string => `${n(5)}.${n(20)}.${n(30)}`;
  const digits = (k: number): string => Array.from({ length: k }, () => String(n(10))).join('');
  const hex = (k: number): string => Array.from({ length: k }, () => '0123456789abcdef'[n(16)]).join('');
  const one = (): string => {
    switch (name) {
      case 'go':
        return pick([
          () => `v${semver()}`,
          () => `v${semver()}-${pick(['rc.1', 'beta.2', 'pre'])}`,
          () => `v0.0.0-2019${digits(10)}-${hex(12)}`,
          () => `v${n(3)}.${n(9)}.${1 + n(9)}-0.2020${digits(10)}-${hex(12)}`,
          () => `v${2 + n(3)}.${n(9)}.${n(9)}+incompatible`,
        ])();
      case 'gem':
        return pick([() => semver(), () => `${semver()}.${pick(['rc1', 'beta2', 'pre', 'alpha.1'])}`, () => `${n(6)}.${n(20)}`, () => `${semver()}.${n(9)}`])();
      case 'rpm':
        return `${pick(['', '', '1:', '2:'])}${semver()}${pick(['', '~rc1', '^git1'])}-${1 + n(20)}.el${7 + n(3)}${pick(['', '_1', '.1'])}`;
      default:
        return semver();
    }
  };
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) pairs.push([one(), one()]);
  return pairs;
}

interface ReferenceResult {
  reference: Reference | null;
  note?: string;
}

async function referenceFor(ctx: BenchContext, name: VersionSchemeName, pairs: Array<[string, string]>): Promise<ReferenceResult> {
  switch (name) {
    case 'npm': {
      let rate = 0;
      for (let run = 0; run < RUNS; run++) {
        const started = performance.now();
        for (const [a, b] of pairs) semverCompare(a, b, { loose: true });
        rate = Math.max(rate, pairs.length / ((performance.now() - started) / 1000));
      }
      return { reference: { name: 'node-semver compare (in process, no I/O)', value: Math.round(rate), unit: 'pairs/s' } };
    }
    case 'dpkg':
      return dpkgReference(ctx, pairs.slice(0, DPKG_PAIRS));
    case 'pypi':
      return pythonReference(ctx, pairs);
    case 'maven':
      return mavenReference(ctx, pairs);
    default:
      return { reference: null, note: `no native ${name} comparator on this machine to measure against` };
  }
}

function run(command: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 1 << 26, timeout: 120_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end(input);
  });
}

async function dpkgReference(ctx: BenchContext, pairs: Array<[string, string]>): Promise<ReferenceResult> {
  if (spawnSync('dpkg', ['--version'], { stdio: 'ignore' }).status !== 0) return { reference: null, note: 'dpkg is not installed' };
  // Sample versions use only [0-9A-Za-z.+~:-]: safe inside single quotes.
  const script = pairs.map(([a, b]) => `dpkg --compare-versions '${a}' lt '${b}'; echo $?`).join('\n');
  const started = performance.now();
  const out = await run('sh', ['-s'], script);
  const seconds = (performance.now() - started) / 1000;
  if (out.trim().split('\n').length !== pairs.length) ctx.log('dpkg reference: unexpected output');
  return { reference: { name: 'dpkg --compare-versions (one process per pair)', value: Math.round(pairs.length / seconds), unit: 'pairs/s' } };
}

const PYTHON_RATE = `
import sys, time
from packaging.version import Version
pairs = [line.split("\\t") for line in sys.stdin.read().split("\\n") if line]
best = 0
for _ in range(2):
    start = time.perf_counter()
    for a, b in pairs:
        Version(a) < Version(b)
    best = max(best, len(pairs) / (time.perf_counter() - start))
print(int(best))
`;

async function pythonReference(ctx: BenchContext, pairs: Array<[string, string]>): Promise<ReferenceResult> {
  if (spawnSync('python3', ['-c', 'import packaging'], { stdio: 'ignore' }).status !== 0) return { reference: null, note: 'python3 with packaging is not installed' };
  const input = `${pairs.map(([a, b]) => `${a}\t${b}`).join('\n')}\n`;
  try {
    const rate = Number((await run('python3', ['-c', PYTHON_RATE], input)).trim());
    return { reference: { name: 'pypa packaging Version parse + compare in CPython (no I/O)', value: rate, unit: 'pairs/s' } };
  } catch (err) {
    ctx.log(`packaging reference failed: ${(err as Error).message}`);
    return { reference: null, note: 'the packaging reference failed to run' };
  }
}

const JAVA_RATE = `import org.apache.maven.artifact.versioning.ComparableVersion;
import java.io.*;
import java.util.*;
public class Rate {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    List<String[]> pairs = new ArrayList<>();
    for (String line; (line = in.readLine()) != null;) if (!line.isEmpty()) pairs.add(line.split("\\t", 2));
    double best = 0;
    int sink = 0;
    for (int run = 0; run < 3; run++) {
      long start = System.nanoTime();
      for (String[] p : pairs) sink += new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]));
      best = Math.max(best, pairs.size() / ((System.nanoTime() - start) / 1e9));
    }
    System.out.println((long) best + " " + sink);
  }
}
`;

async function mavenReference(ctx: BenchContext, pairs: Array<[string, string]>): Promise<ReferenceResult> {
  const dir = path.join(os.homedir(), '.m2', 'repository', 'org', 'apache', 'maven', 'maven-artifact');
  const version = existsSync(dir) ? readdirSync(dir).filter((v) => /^3\.9\.[0-9]+$/.test(v)).sort(versionScheme('maven').compare).at(-1) : undefined;
  const jar = version === undefined ? null : path.join(dir, version, `maven-artifact-${version}.jar`);
  if (jar === null || !existsSync(jar) || spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) {
    return { reference: null, note: 'no java or no maven-artifact 3.9.x jar in the local Maven repository' };
  }
  const source = path.join(ctx.tmpDir, 'Rate.java');
  writeFileSync(source, JAVA_RATE);
  const input = `${pairs.map(([a, b]) => `${a}\t${b}`).join('\n')}\n`;
  try {
    const rate = Number((await run('java', ['-cp', jar, source], input)).trim().split(' ')[0]);
    return { reference: { name: `maven-artifact ${version} ComparableVersion in the JVM, warm (no I/O)`, value: rate, unit: 'pairs/s' } };
  } catch (err) {
    ctx.log(`maven reference failed: ${(err as Error).message}`);
    return { reference: null, note: 'the maven-artifact reference failed to run' };
  }
}

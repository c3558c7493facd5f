import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGoBinaryScanner, goBinaryScanner } from '../../../src/ecosystems/go/go-binary-scanner.ts';
import { goReleaseToSemver } from '../../../src/ecosystems/go/go-release-tag.ts';
import { parseGoModinfo } from '../../../src/ecosystems/go/parse-go-modinfo.ts';
import { releaseFromLdflags } from '../../../src/ecosystems/go/parse-ldflags.ts';
import { HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { EXECUTABLE, REGULAR, ids, layerFor, readFixture } from './layer-files.ts';

const fixtureTest = HAVE_FIXTURES ? test : test.skip;

interface Expected {
  packages: { name: string; version: string; relationship?: string }[];
}

function expected(name: string): Expected {
  return JSON.parse(readFixture('pkgdb', 'go-binaries', name).toString('utf8')) as Expected;
}

const START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/**
 * A stand-in for a Go 1.18+ executable: an ELF magic, filler, and at a 16-byte aligned offset
 * the 32-byte build info header followed by the inline version and framed module information.
 */
function fakeGoElf(goVersion: string, modinfo: string, options: { before?: number; after?: number; frame?: boolean } = {}): Buffer {
  const header = Buffer.alloc(32);
  header.write('\xff Go buildinf:', 0, 'latin1');
  header[14] = 8;
  header[15] = 2;
  const framed = options.frame === false ? Buffer.from(modinfo) : Buffer.concat([START, Buffer.from(modinfo), END]);
  const version = Buffer.from(goVersion);
  const blob = Buffer.concat([header, uvarint(version.length), version, uvarint(framed.length), framed]);
  const elf = Buffer.alloc(64, 0);
  elf.write('\x7fELF', 0, 'latin1');
  elf[4] = 2;
  elf[5] = 1;
  const filler = Buffer.alloc(options.before ?? 200_000, 0x90);
  const pad = Buffer.alloc((16 - ((elf.length + filler.length) % 16)) % 16, 0);
  return Buffer.concat([elf, filler, pad, blob, Buffer.alloc(options.after ?? 70_000, 0xcc)]);
}

const MODINFO = [
  'path\texample.com/tool/cmd/tool',
  'mod\texample.com/tool\t(devel)\t',
  'dep\tgithub.com/pkg/errors\tv0.9.1\th1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=',
  'dep\tgolang.org/x/net\tv0.17.0\th1:abc=',
  '=>\tgolang.org/x/net\tv0.23.0\th1:def=',
  'dep\texample.com/internal/lib\tv1.0.0\t',
  '=>\t../lib\t\t',
  'build\t-buildmode=exe',
  'build\t-ldflags="-s -w -X \'example.com/tool/internal/build.Version=2.3.4\'"',
  'build\tvcs.revision=0123456789abcdef',
  '',
].join('\n');

fixtureTest(`Go 1.15 binary (pre-1.18 build info): modules from the framed module info, toolchain through ELF pointers${HAVE_FIXTURES ? '' : NO_FIXTURES}`, async (t) => {
  const data = readFixture('pkgdb', 'go-binaries', 'trivy-test.elf.gz');
  const { layer } = await layerFor(goBinaryScanner, [{ path: 'usr/local/bin/test', data, mode: EXECUTABLE }]);
  t.true(layer.files.get('usr/local/bin/test')!.data.length < 4096, 'only the build info is kept, not the binary');
  const result = await goBinaryScanner.scan(layer);
  const want = expected('trivy-test.elf.expected.json').packages;
  // The root module is built from a checkout: Go records it as (devel), which is what we report.
  const wantIds = want.map((p) => (p.relationship === 'root' ? `${p.name}@(devel)` : `${p.name}@${p.version}`));
  t.deepEqual(ids(result.packages).sort(), wantIds.sort());
  t.deepEqual(ids(result.packages), [
    'github.com/aquasecurity/test@(devel)',
    'github.com/aquasecurity/go-pep440-version@v0.0.0-20210121094942-22b2f8951d46',
    'github.com/aquasecurity/go-version@v0.0.0-20210121072130-637058cfe492',
    'golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1',
    'stdlib@v1.15.2',
  ]);
  for (const p of result.packages ?? []) {
    t.is(p.ecosystem, 'go');
    t.is(p.path, 'usr/local/bin/test');
  }
  t.is(result.packages?.find((p) => p.name === 'golang.org/x/xerrors')?.purl, 'pkg:golang/golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1');
  t.deepEqual(result.notes ?? [], []);
});

fixtureTest(`Go 1.22 binary: inline build info, main module version from -ldflags -X main.version${HAVE_FIXTURES ? '' : NO_FIXTURES}`, async (t) => {
  const data = readFixture('pkgdb', 'go-binaries', 'trivy-main-version-via-ldflags.elf.gz');
  const { layer } = await layerFor(goBinaryScanner, [{ path: 'app/server', data, mode: EXECUTABLE }]);
  const result = await goBinaryScanner.scan(layer);
  const want = expected('trivy-main-version-via-ldflags.elf.expected.json').packages;
  t.deepEqual(ids(result.packages).sort(), want.map((p) => `${p.name}@${p.version}`).sort());
  const main = result.packages?.find((p) => p.extra?.relationship === 'main');
  t.is(main?.name, 'github.com/aquasecurity/test');
  t.is(main?.version, 'v1.0.0');
  t.is(main?.extra?.versionSource, 'ldflags');
  t.is(main?.extra?.vcsRevision, '9640d75c13845419f5797e2e3ac3475f8d801d79');
  t.is(result.packages?.find((p) => p.name === 'stdlib')?.purl, 'pkg:golang/stdlib@v1.22.1');
});

fixtureTest(`build info is found whatever the chunk boundaries${HAVE_FIXTURES ? '' : NO_FIXTURES}`, async (t) => {
  const data = readFixture('pkgdb', 'go-binaries', 'trivy-test.elf.gz');
  const wanted = ['stdlib@v1.15.2', 'golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1'];
  for (const size of [17, 4093, 1 << 20]) {
    const { layer } = await layerFor(goBinaryScanner, [{ path: 'bin/test', data, mode: EXECUTABLE }], size);
    const found = ids((await goBinaryScanner.scan(layer)).packages);
    for (const id of wanted) t.true(found.includes(id), `${id} with ${size}-byte chunks`);
  }
});

fixtureTest(`a file that is not an executable is not a Go binary${HAVE_FIXTURES ? '' : NO_FIXTURES}`, async (t) => {
  const data = readFixture('pkgdb', 'go-binaries', 'trivy-dummy-not-a-binary');
  const small = await layerFor(goBinaryScanner, [{ path: 'bin/dummy', data, mode: EXECUTABLE }]);
  t.deepEqual(small.unwanted, ['bin/dummy'], 'too small to be read at all');
  const eager = createGoBinaryScanner({ minBytes: 0 });
  const read = await layerFor(eager, [{ path: 'bin/dummy', data, mode: EXECUTABLE }]);
  t.is(read.layer.files.size, 0, 'extract says nothing is there');
  t.deepEqual(await eager.scan(read.layer), { packages: [], notes: [] });
});

test('synthetic Go 1.18+ binary: replacements, local replacement noted, -X of the main module package', async (t) => {
  const data = fakeGoElf('go1.21rc2 X:boringcrypto', MODINFO);
  for (const size of [5, 1000, 65536]) {
    const { layer } = await layerFor(goBinaryScanner, [{ path: 'usr/bin/tool', data, mode: EXECUTABLE }], size);
    const result = await goBinaryScanner.scan(layer);
    t.deepEqual(ids(result.packages), [
      'example.com/tool@v2.3.4',
      'github.com/pkg/errors@v0.9.1',
      'golang.org/x/net@v0.23.0',
      'stdlib@v1.21.0-rc.2',
    ], `${size}-byte chunks`);
    t.is(result.packages?.find((p) => p.name === 'golang.org/x/net')?.extra?.replaces, 'golang.org/x/net@v0.17.0');
    t.deepEqual(result.notes, ['usr/bin/tool: module example.com/internal/lib v1.0.0 is replaced by the local directory ../lib; not reported']);
  }
});

test('hostile executables: no build info, unaligned or garbage headers, cut-short build info, oversized module info', async (t) => {
  const elfWithout = Buffer.concat([Buffer.from('\x7fELF', 'latin1'), Buffer.alloc(300_000, 0x41)]);
  const unaligned = Buffer.concat([Buffer.from('\x7fELF', 'latin1'), Buffer.alloc(1001, 0), Buffer.from('\xff Go buildinf:\x08\x02', 'latin1'), Buffer.alloc(100_000, 0)]);
  const garbage = fakeGoElf('go1.22.0', MODINFO);
  const at = garbage.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
  garbage[at + 14] = 3; // impossible pointer size
  const cut = fakeGoElf('go1.22.0', MODINFO, { after: 0 }).subarray(0, -40);
  const huge = fakeGoElf('go1.22.0', `path\tx\nmod\tx\tv1.0.0\t\n${'dep\ty\tv1.0.0\t\n'.repeat(2000)}`);
  const shell = Buffer.concat([Buffer.from('#!/bin/sh\n'), Buffer.alloc(100_000, 0x23)]);
  const scanner = createGoBinaryScanner({ minBytes: 1024, limits: { modinfoBytes: 4096, versionBytes: 256, candidates: 64 } });
  const { layer } = await layerFor(scanner, [
    { path: 'a/no-build-info', data: elfWithout, mode: EXECUTABLE },
    { path: 'b/unaligned', data: unaligned, mode: EXECUTABLE },
    { path: 'c/garbage', data: garbage, mode: EXECUTABLE },
    { path: 'd/cut', data: cut, mode: EXECUTABLE },
    { path: 'e/huge', data: huge, mode: EXECUTABLE },
    { path: 'f/script', data: shell, mode: EXECUTABLE },
  ], 4096);
  t.deepEqual([...layer.files.keys()].sort(), ['c/garbage', 'd/cut', 'e/huge'], 'garbage still has the framed module info');
  const result = await scanner.scan(layer);
  t.deepEqual(ids(result.packages), [
    'example.com/tool@v2.3.4', 'github.com/pkg/errors@v0.9.1', 'golang.org/x/net@v0.23.0',
    'stdlib@v1.22.0',
    'stdlib@v1.22.0',
  ]);
  t.is(result.packages?.[4]?.path, 'e/huge');
  t.true(result.notes?.some((n) => n.startsWith('c/garbage: ') && n.includes('Go version')));
  t.true(result.notes?.some((n) => n.startsWith('d/cut: ') && n.includes('cut short')));
  t.true(result.notes?.some((n) => n.startsWith('e/huge: ') && n.includes('larger than the 4096-byte limit')));
});

test('only regular files with an execute bit, within the size bounds, are streamed', async (t) => {
  const data = fakeGoElf('go1.22.0', MODINFO);
  const { unwanted, layer } = await layerFor(goBinaryScanner, [
    { path: 'x/plain', data, mode: REGULAR },
    { path: 'x/link', data, mode: 0o120777 },
    { path: 'x/dir', data, mode: 0o040755 },
    { path: 'x/exec', data, mode: EXECUTABLE },
    { path: 'x/exec-no-type-bits', data, mode: 0o755 },
  ]);
  t.deepEqual(unwanted, ['x/plain', 'x/link', 'x/dir']);
  t.deepEqual([...layer.files.keys()], ['x/exec', 'x/exec-no-type-bits']);
  const small = createGoBinaryScanner({ maxBytes: 1000 });
  t.deepEqual((await layerFor(small, [{ path: 'x/exec', data, mode: EXECUTABLE }])).unwanted, ['x/exec']);
});

test('scan notes data it cannot decode instead of throwing', async (t) => {
  const files = new Map([['bin/x', { path: 'bin/x', size: 5, mode: EXECUTABLE, data: Buffer.from('{nope') }]]);
  t.deepEqual(await goBinaryScanner.scan({ files, symlinks: new Map() }), { packages: [], notes: ['bin/x: build info could not be read'] });
});

test('Go release numbers become module-style versions', (t) => {
  t.is(goReleaseToSemver('go1.22.1'), 'v1.22.1');
  t.is(goReleaseToSemver('go1.20'), 'v1.20.0');
  t.is(goReleaseToSemver('go1.21rc2'), 'v1.21.0-rc.2');
  t.is(goReleaseToSemver('go1.9beta1'), 'v1.9.0-beta.1');
  t.is(goReleaseToSemver('go1.22.1 X:boringcrypto'), 'v1.22.1');
  t.is(goReleaseToSemver('devel go1.23-4f1c2a Tue Jan 2 10:00:00 2024 +0000'), null);
  t.is(goReleaseToSemver('gofish'), null);
});

test('module info parsing keeps replacements and quoted build settings', (t) => {
  const { info, skipped } = parseGoModinfo(`${MODINFO}garbage line\n=>\torphan\tv1\t\n`);
  t.is(skipped, 2);
  t.is(info.path, 'example.com/tool/cmd/tool');
  t.deepEqual(info.main, { path: 'example.com/tool', version: '(devel)' });
  t.deepEqual(info.deps[1], { path: 'golang.org/x/net', version: 'v0.17.0', sum: 'h1:abc=', replace: { path: 'golang.org/x/net', version: 'v0.23.0', sum: 'h1:def=' } });
  t.deepEqual(info.settings[1], ['-ldflags', "-s -w -X 'example.com/tool/internal/build.Version=2.3.4'"]);
  t.is(releaseFromLdflags('-X main.version=v1.0.0', 'x'), 'v1.0.0');
  t.is(releaseFromLdflags('-X=main.Version=1.2', 'x'), 'v1.2');
  t.is(releaseFromLdflags('-X other.com/y.version=1.2.3', 'x'), null, 'another module’s variable is not ours');
  t.is(releaseFromLdflags('-X main.version=dev', 'x'), null, 'not a release');
  t.is(releaseFromLdflags('-X main.commit=1.2.3', 'x'), null);
});

const GO = spawnSync('go', ['version'], { encoding: 'utf8' });
const HAVE_GO = GO.status === 0;
(HAVE_GO ? test : test.skip)(`a freshly built Go binary reports its module and toolchain${HAVE_GO ? '' : ' (skipped: no Go toolchain on this machine)'}`, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lookout-gobin-'));
  try {
    writeFileSync(path.join(dir, 'go.mod'), 'module example.com/hello\n\ngo 1.18\n');
    writeFileSync(path.join(dir, 'main.go'), 'package main\n\nfunc main() { println("hi") }\n');
    const built = spawnSync('go', ['build', '-o', 'hello', '.'], { cwd: dir, encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' } });
    t.is(built.status, 0, built.stderr);
    const goVersion = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout.trim();
    const data = readFileSync(path.join(dir, 'hello'));
    const { layer } = await layerFor(goBinaryScanner, [{ path: 'hello', data, mode: EXECUTABLE }]);
    const found = ids((await goBinaryScanner.scan(layer)).packages);
    t.true(found.includes(`stdlib@${goReleaseToSemver(goVersion)}`));
    t.true(found.some((id) => id.startsWith('example.com/hello@')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import anyTest, { type TestFn } from 'ava';
import { mkdtemp, rm, writeFile, cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { alpineAdvisory, alpineLayerFiles, api, eventually, indexImage, startOperatorLookout, type OperatorHarness } from '../vex/operator-harness.ts';

// Custom advisories through the API and the CLI: checked whole, stored, matched like feed data
// (findings from the `custom` source), changed and withdrawn; OSV documents imported.

interface Context {
  h: OperatorHarness;
  image: { manifestId: number; digest: string };
}

const test = anyTest as TestFn<Context>;
const OSV_DIR = fileURLToPath(new URL('../fixtures/osv/', import.meta.url));

test.before(async (t) => {
  const h = await startOperatorLookout('advisories', { advisories: { maxAdvisories: 8 } });
  const layer = await h.layout.addLayer(alpineLayerFiles([['busybox', '1.36.1-r15', 'busybox'], ['libssl3', '3.1.4-r0', 'openssl']]));
  const image = await indexImage(h, [layer], { repository: 'team/app', tag: 'v1' });
  t.context = { h, image };
});

test.after.always(async (t) => {
  await t.context.h?.close();
});

type Finding = { vulnerability: string; aliases: string[]; package: { name: string }; severity: string; fixedVersion: string | null; links: string[]; description: string | null; source: { updater: string } };

async function findings(t: { context: Context }, expected?: (f: string[]) => boolean): Promise<Finding[]> {
  const read = async () => (await api(t.context.h, 'GET', `/api/v1/images/${t.context.image.digest}`)).json.report.findings as Finding[];
  return expected ? eventually(read, (list) => expected(list.map((f) => `${f.vulnerability} ${f.package.name}`).sort())) : read();
}

const count = async (t: { context: Context }) => Number((await t.context.h.db.knex('custom_advisories').count<{ n: string }[]>('* as n'))[0]!.n);

test.serial('an advisory is matched like feed data: a finding from the custom source, with its severity, fix and links', async (t) => {
  const res = await api(t.context.h, 'POST', '/api/v1/advisories', alpineAdvisory('LOOKOUT-2026-0001', 'openssl', '3.1.5-r0', { aliases: ['cve-2026-2001'], description: 'Internal finding.', cvss: ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'] }));
  t.is(res.status, 201, res.text);
  t.is(res.headers.get('location'), '/api/v1/advisories/LOOKOUT-2026-0001');
  t.like(res.json.advisory, { id: 'LOOKOUT-2026-0001', aliases: ['CVE-2026-2001'], severity: 'High', revision: 1, state: 'active', origin: 'api', affected: [{ ecosystem: 'apk', distribution: 'alpine:3.19', package: 'openssl', packageKind: 'source' }] });
  t.like(res.json.applied, { state: 'changed', counts: { added: 1, removed: 0 } });
  const list = await findings(t, (f) => f.includes('CVE-2026-2001 libssl3'));
  const f = list.find((x) => x.package.name === 'libssl3')!;
  t.like(f, { vulnerability: 'CVE-2026-2001', aliases: ['LOOKOUT-2026-0001'], severity: 'High', fixedVersion: '3.1.5-r0', description: 'Internal finding.', source: { updater: 'custom' } });
  t.deepEqual(f.links, ['https://security.example.test/LOOKOUT-2026-0001']);
  const one = await api(t.context.h, 'GET', '/api/v1/advisories/LOOKOUT-2026-0001');
  t.is(one.status, 200);
  t.is(one.json.cvss[0].score, 9.8);
  t.deepEqual((await api(t.context.h, 'GET', '/api/v1/advisories')).json.items.map((a: { id: string }) => a.id), ['LOOKOUT-2026-0001']);
});

test.serial('bad advisories are a 400 naming the field, and store nothing', async (t) => {
  const before = await count(t);
  const runs = Number((await t.context.h.db.knex('update_runs').count<{ n: string }[]>('* as n'))[0]!.n);
  const base = alpineAdvisory('LOOKOUT-2026-0009', 'busybox', '1.36.1-r20');
  const affected = (over: Record<string, unknown>) => ({ ...base, affected: [{ ...(base.affected as object[])[0], ...over }] });
  const cases: Array<[unknown, RegExp]> = [
    [affected({ ecosystem: 'apkx' }), /^invalid advisory: affected\.0\.ecosystem: /],
    [affected({ distribution: undefined }), /^invalid advisory: affected\.0\.distribution: required for apk packages/],
    [affected({ distribution: 'debian:bookworm' }), /affected\.0\.distribution: debian packages are dpkg packages, not apk/],
    [affected({ distribution: 'alpine' }), /affected\.0\.distribution: "alpine" is not a release/],
    [{ ...base, affected: [{ ecosystem: 'pypi', distribution: 'alpine:3.19', package: 'requests', fixedVersion: '2.0' }] }, /affected\.0\.distribution: pypi packages belong to no distribution release/],
    [affected({ ranges: [{ events: [{ introduced: '0' }, { fixed: 'not-a-version' }] }] }), /affected\.0\.ranges\.0\.events\.1\.fixed: "not-a-version" is not a valid apk version/],
    [affected({ ranges: [{ events: [{ fixed: '1.0-r0' }] }] }), /affected\.0\.ranges\.0\.events: a range needs an introduced event/],
    [affected({ ranges: [{ events: [{ introduced: '2.0-r0' }, { last_affected: '1.0-r0' }] }] }), /affected\.0\.ranges\.0\.events: last_affected "1\.0-r0" closes no range/],
    [affected({ fixedVersion: '1.36.1-r20' }), /affected\.0: give exactly one of ranges, fixedVersion, or a state/],
    [affected({ ranges: undefined }), /affected\.0: give exactly one of ranges, fixedVersion, or a state/],
    [{ ...base, severity: 'Severe' }, /severity: unknown severity "Severe"/],
    [{ ...base, cvss: ['CVSS:3.1/AV:N/AC:L'] }, /^invalid advisory: cvss\.0: /],
    [{ ...base, links: ['javascript:alert(1)'] }, /links\.0: must be an http\(s\) URL/],
    [{ ...base, id: 'has space' }, /^invalid advisory: id: /],
    [{ ...base, affected: [] }, /^invalid advisory: affected: /],
    [{ ...base, affected: [(base.affected as object[])[0], (base.affected as object[])[0]] }, /affected\.1: names the same package as affected\.0/],
    [{ ...base, unexpected: true }, /^invalid advisory: body: Unrecognized key/i],
    [{ ...base, affected: [{ ...(base.affected as object[])[0], module: 'x:1' }] }, /affected\.0\.module: only rpm packages have module streams/],
  ];
  for (const [body, message] of cases) {
    const res = await api(t.context.h, 'POST', '/api/v1/advisories', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.json.code, 'invalid_advisory', res.text);
    t.regex(res.json.message, message);
  }
  const notJson = await api(t.context.h, 'POST', '/api/v1/advisories', undefined, { raw: '{"id": ' });
  t.like(notJson, { status: 400, json: { code: 'invalid_json' } });
  t.is(await count(t), before);
  t.is(Number((await t.context.h.db.knex('update_runs').count<{ n: string }[]>('* as n'))[0]!.n), runs, 'no run');
  t.is((await api(t.context.h, 'POST', '/api/v1/advisories', base, { key: null })).status, 401);
});

test.serial('change and withdraw: a fix below the installed version resolves the finding; withdrawing removes it; the same id cannot be added twice', async (t) => {
  const dup = await api(t.context.h, 'POST', '/api/v1/advisories', alpineAdvisory('LOOKOUT-2026-0001', 'openssl', '3.1.5-r0'));
  t.like(dup, { status: 409, json: { code: 'advisory_exists' } });
  t.is((await api(t.context.h, 'PUT', '/api/v1/advisories/LOOKOUT-2026-0001', alpineAdvisory('LOOKOUT-2026-0002', 'openssl', '3.1.5-r0'))).status, 400, 'the body names another id');
  t.is((await api(t.context.h, 'PUT', '/api/v1/advisories/NOPE-1', alpineAdvisory('NOPE-1', 'openssl', '3.1.5-r0'))).status, 404);

  const fixedEarlier = await api(t.context.h, 'PUT', '/api/v1/advisories/LOOKOUT-2026-0001', alpineAdvisory('LOOKOUT-2026-0001', 'openssl', '3.1.4-r0', { aliases: ['CVE-2026-2001'] }));
  t.is(fixedEarlier.status, 200, fixedEarlier.text);
  t.like(fixedEarlier.json, { advisory: { revision: 2 }, applied: { state: 'changed', counts: { changed: 1 } } });
  t.deepEqual((await findings(t, (f) => !f.some((x) => x.startsWith('CVE-2026-2001')))).map((f) => f.vulnerability), [], 'the installed 3.1.4-r0 is the fix');

  const busybox = await api(t.context.h, 'POST', '/api/v1/advisories', alpineAdvisory('LOOKOUT-2026-0003', 'busybox', '1.36.1-r20'));
  t.is(busybox.status, 201);
  t.deepEqual((await findings(t, (f) => f.includes('LOOKOUT-2026-0003 busybox'))).map((f) => f.vulnerability), ['LOOKOUT-2026-0003']);
  const gone = await api(t.context.h, 'DELETE', '/api/v1/advisories/LOOKOUT-2026-0003');
  t.like(gone, { status: 200, json: { advisory: { state: 'withdrawn', withdrawnBy: null }, applied: { counts: { removed: 1 } } } });
  t.deepEqual(await findings(t, (f) => f.length === 0), []);
  t.is((await api(t.context.h, 'DELETE', '/api/v1/advisories/LOOKOUT-2026-0003')).status, 404, 'already withdrawn');
  t.deepEqual((await api(t.context.h, 'GET', '/api/v1/advisories')).json.items.map((a: { id: string }) => a.id), ['LOOKOUT-2026-0001']);
  t.deepEqual((await api(t.context.h, 'GET', '/api/v1/advisories?state=all')).json.items.map((a: { id: string; state: string }) => `${a.id} ${a.state}`), ['LOOKOUT-2026-0001 active', 'LOOKOUT-2026-0003 withdrawn']);
  // The same data again is no run at all.
  t.like(await t.context.h.lookout.advisories.sync(), { state: 'unchanged' });
});

(HAVE_FIXTURES ? test.serial : test.serial.skip)(`OSV records through the API: real ones imported, a withdrawn one withdraws, one Lookout cannot match rejects the whole import${HAVE_FIXTURES ? '' : NO_FIXTURES}`, async (t) => {
  const read = (p: string) => JSON.parse(readFileSync(fixture(p), 'utf8'));
  const good = [read('feeds/osv/PyPI/PYSEC-2026-1.json'), read('feeds/osv/Go/GO-2024-2687.json'), read('feeds/osv/npm/GHSA-75v8-2h7p-7m2m.json')];
  const before = await count(t);
  const bad = await api(t.context.h, 'POST', '/api/v1/advisories?format=osv', [...good, read('feeds/osv/crates.io/RUSTSEC-2016-0001.json')]);
  t.is(bad.status, 400);
  t.regex(bad.json.message, /^\/3: \/affected\/0\/package\/ecosystem: OSV ecosystem "crates\.io" is not one Lookout matches/);
  t.is(await count(t), before, 'nothing of the import is kept');

  const res = await api(t.context.h, 'POST', '/api/v1/advisories?format=osv', good);
  t.is(res.status, 200, res.text);
  t.deepEqual(res.json.counts, { added: 3, changed: 0, unchanged: 0, withdrawn: 0 });
  const werkzeug = (await api(t.context.h, 'GET', '/api/v1/advisories/PYSEC-2026-1')).json;
  t.like(werkzeug, { origin: 'osv', severity: 'Medium', affected: [{ ecosystem: 'pypi', distribution: null, package: 'werkzeug' }] });
  const formidable = (await api(t.context.h, 'GET', '/api/v1/advisories/GHSA-75v8-2h7p-7m2m')).json;
  t.is(formidable.affected[0].ranges.length, 2, 'both OSV entries of the package, in one');
  const records = await t.context.h.db.knex('vulnerabilities').where({ updater: 'custom', name: 'GHSA-75v8-2h7p-7m2m' }).select('affected_range');
  t.deepEqual(records.map((r) => r.affected_range), [{ events: [{ introduced: '2.1.0' }] }], 'their union: every version from 2.1.0 (the canary range lies inside it)');

  const again = await api(t.context.h, 'POST', '/api/v1/advisories?format=osv', good);
  t.deepEqual(again.json.counts, { added: 0, changed: 0, unchanged: 3, withdrawn: 0 });
  t.like(again.json.applied, { state: 'unchanged' });
  const withdrawn = { ...read('feeds/osv/PyPI/PYSEC-2026-1.json'), withdrawn: '2026-01-02T00:00:00Z' };
  const w = await api(t.context.h, 'POST', '/api/v1/advisories?format=osv', withdrawn);
  t.deepEqual(w.json.counts, { added: 0, changed: 0, unchanged: 0, withdrawn: 1 });
  t.is((await api(t.context.h, 'GET', '/api/v1/advisories/PYSEC-2026-1')).json.state, 'withdrawn');
});

test.serial('at most advisories.maxAdvisories active advisories', async (t) => {
  const active = (await api(t.context.h, 'GET', '/api/v1/advisories')).json.items.length;
  for (let i = active; i < 8; i++) t.is((await api(t.context.h, 'POST', '/api/v1/advisories', alpineAdvisory(`FILL-${i}`, 'zlib', '1.3-r0'))).status, 201);
  const over = await api(t.context.h, 'POST', '/api/v1/advisories', alpineAdvisory('FILL-over', 'zlib', '1.3-r0'));
  t.like(over, { status: 409, json: { code: 'too_many_advisories' } });
  for (let i = active; i < 8; i++) t.is((await api(t.context.h, 'DELETE', `/api/v1/advisories/FILL-${i}`)).status, 200);
});

test.serial('the CLI: add, list, withdraw, import a directory of OSV records; bad input is one line and exit 2', async (t) => {
  const env = { DATABASE_URL: t.context.h.db.url, LOOKOUT_LOG__LEVEL: 'error' };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-advisories-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'advisory.json');
  await writeFile(file, JSON.stringify(alpineAdvisory('CLI-2026-0001', 'busybox', '1.36.1-r20', { severity: 'critical' })));
  const added = await runCli(['advisories', 'add', file], env);
  t.is(added.status, 0, added.stderr);
  t.regex(added.stdout, /^added CLI-2026-0001 \(revision 1\): 1 affected package; run \d+: \+1 -0 ~0 records/);
  t.like((await api(t.context.h, 'GET', '/api/v1/advisories/CLI-2026-0001')).json, { origin: 'cli', severity: 'Critical', createdBy: `cli:${os.userInfo().username}` });
  t.true((await findings(t, (f) => f.includes('CLI-2026-0001 busybox'))).some((f) => f.vulnerability === 'CLI-2026-0001'));

  const list = await runCli(['advisories', 'list'], env);
  t.is(list.status, 0);
  t.regex(list.stdout, /CLI-2026-0001\s+active\s+Critical\s+rev 1\s+apk\/alpine:3\.19\/busybox/);

  await writeFile(path.join(dir, 'bad.json'), JSON.stringify(alpineAdvisory('CLI-2026-0002', 'busybox', '1.x')));
  const bad = await runCli(['advisories', 'add', path.join(dir, 'bad.json')], env);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^lookout: invalid advisory: affected\.0\.ranges\.0\.events\.1\.fixed: "1\.x" is not a valid apk version\n$/);
  await writeFile(path.join(dir, 'broken.json'), '{"id": "X",\n  "affected": [}');
  const broken = await runCli(['advisories', 'add', path.join(dir, 'broken.json')], env);
  t.is(broken.status, 2);
  t.regex(broken.stderr, /^lookout: line 2 column 16: not valid JSON/);
  t.is((await runCli(['advisories', 'add', path.join(dir, 'missing.json')], env)).status, 2);

  // A directory: the project's OSV fixtures, plus a broken one: nothing is imported.
  const osv = path.join(dir, 'osv');
  await cp(OSV_DIR, osv, { recursive: true });
  await writeFile(path.join(osv, 'zz-bad.json'), JSON.stringify({ id: 'BAD-1', affected: [{ package: { ecosystem: 'Hackage', name: 'x' }, ranges: [] }] }));
  const refused = await runCli(['advisories', 'import', osv], env);
  t.is(refused.status, 2);
  t.regex(refused.stderr, /zz-bad\.json: \/affected\/0\/package\/ecosystem: OSV ecosystem "Hackage"/);
  t.is((await api(t.context.h, 'GET', '/api/v1/advisories/LOOKOUT-2026-0101')).status, 404);
  await rm(path.join(osv, 'zz-bad.json'));
  const imported = await runCli(['advisories', 'import', osv], env);
  t.is(imported.status, 0, imported.stderr);
  t.regex(imported.stdout, /^imported 2 documents: 2 added, 0 changed, 0 unchanged, 0 withdrawn/);
  const lines = await findings(t, (f) => f.includes('CVE-2026-0101 libssl3') && f.includes('LOOKOUT-2026-0102 busybox'));
  t.like(lines.find((f) => f.vulnerability === 'CVE-2026-0101'), { aliases: ['LOOKOUT-2026-0101'], fixedVersion: '3.1.5-r0', severity: 'High', source: { updater: 'custom' } });

  const withdrawn = await runCli(['advisories', 'withdraw', 'CLI-2026-0001'], env);
  t.is(withdrawn.status, 0, withdrawn.stderr);
  t.regex(withdrawn.stdout, /^withdrew CLI-2026-0001; run \d+: \+0 -1 ~0 records/);
  const unknown = await runCli(['advisories', 'withdraw', 'CLI-2026-0001'], env);
  t.is(unknown.status, 2);
  t.regex(unknown.stderr, /advisory CLI-2026-0001 is not known or already withdrawn/);
  t.false((await findings(t, (f) => !f.includes('CLI-2026-0001 busybox'))).some((f) => f.vulnerability === 'CLI-2026-0001'));
});

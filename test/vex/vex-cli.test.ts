import anyTest, { type TestFn } from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.ts';
import { alpineAdvisory, alpineLayerFiles, api, indexImage, startOperatorLookout, type OperatorHarness } from './operator-harness.ts';

// `lookout vex import|list|delete` and `lookout scan --format openvex|cyclonedx-vex`.

interface Context {
  h: OperatorHarness;
  env: Record<string, string>;
  tmp: string;
}

const test = anyTest as TestFn<Context>;
const FIXTURE = (name: string) => fileURLToPath(new URL(`../fixtures/vex/${name}`, import.meta.url));

test.before(async (t) => {
  const h = await startOperatorLookout('vex_cli');
  for (const [id, origin, fixed] of [['CVE-2026-1001', 'openssl', '3.1.5-r0'], ['CVE-2026-1002', 'busybox', '1.36.1-r20']] as const) {
    if ((await api(h, 'POST', '/api/v1/advisories', alpineAdvisory(id, origin, fixed))).status !== 201) throw new Error('advisory');
  }
  const layer = await h.layout.addLayer(alpineLayerFiles([['busybox', '1.36.1-r15', 'busybox'], ['libssl3', '3.1.4-r0', 'openssl']]));
  await indexImage(h, [layer], { repository: 'team/app', tag: 'v1' });
  await h.layout.tag('cli', (await h.layout.addImage({ layers: [layer], platform: { os: 'linux', architecture: 'amd64' } })));
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'lookout-vex-cli-'));
  t.context = { h, env: { DATABASE_URL: h.db.url, LOOKOUT_LOG__LEVEL: 'error' }, tmp };
});

test.after.always(async (t) => {
  await t.context.h?.close();
  if (t.context.tmp) await rm(t.context.tmp, { recursive: true, force: true });
});

test.serial('vex import: a document applies to scans; list and delete; a malformed one is one line with its position and exit 2', async (t) => {
  const { env, h, tmp } = t.context;
  const image = `oci:${h.dir}:cli`;
  const scan = async (...more: string[]) => JSON.parse((await runCli(['scan', image, '--format', 'json', ...more], env)).stdout) as { findings: Array<{ vulnerability: string }>; suppressedFindings?: Array<{ vulnerability: string; suppression: { by: string } }> };
  t.deepEqual((await scan()).findings.map((f) => f.vulnerability).sort(), ['CVE-2026-1001', 'CVE-2026-1002']);

  const imported = await runCli(['vex', 'import', FIXTURE('openvex-libssl3.json')], env);
  t.is(imported.status, 0, imported.stderr);
  t.regex(imported.stdout, /^imported openvex document (\d+) \(https:\/\/vex\.example\.test\/docs\/alpine-libssl3-2026-1\): 2 statements, 0 skipped; \d+ reports invalidated\n$/);
  const id = /document (\d+)/.exec(imported.stdout)![1]!;
  t.deepEqual((await scan()).findings.map((f) => f.vulnerability), ['CVE-2026-1002']);
  t.is((await scan()).suppressedFindings, undefined, 'left out unless asked');
  t.deepEqual((await scan('--include-suppressed')).suppressedFindings?.map((f) => `${f.vulnerability} ${f.suppression.by}`), ['CVE-2026-1001 vex']);
  const table = await runCli(['scan', image, '--include-suppressed'], env);
  t.regex(table.stdout, /^Suppressed {2}1 finding closed by VEX statements$/m);
  t.regex(table.stdout, /^ {2}libssl3\s+3\.1\.4-r0\s+CVE-2026-1001\s+vex not_affected #\d+\s+vulnerable_code_not_in_execute_path: Our images never call/m);

  const list = await runCli(['vex', 'list'], env);
  t.regex(list.stdout, new RegExp(`^${id}\\s+openvex\\s+2 statements\\s+global\\s+Example Platform Team`, 'm'));

  const broken = path.join(tmp, 'broken.json');
  await writeFile(broken, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', vulnerabilities: [{ id: 'CVE-2026-1002', analysis: { state: 'resolved' }, affects: [{ ref: 'missing' }] }] }, null, 2));
  const bad = await runCli(['vex', 'import', broken], env);
  t.is(bad.status, 2);
  t.is(bad.stderr, 'lookout: /vulnerabilities/0/affects/0/ref: "missing" is not the bom-ref of a component of this BOM\n');
  t.is((await runCli(['vex', 'import', FIXTURE('openvex-libssl3.json'), '--image', 'sha256:zz'], env)).status, 2);
  t.is((await runCli(['vex', 'import', FIXTURE('openvex-libssl3.json'), '--format', 'spdx'], env)).status, 2);
  t.is((await runCli(['vex', 'delete', '424242'], env)).status, 2);

  const deleted = await runCli(['vex', 'delete', id], env);
  t.is(deleted.status, 0, deleted.stderr);
  t.deepEqual((await scan()).findings.map((f) => f.vulnerability).sort(), ['CVE-2026-1001', 'CVE-2026-1002']);
});

test.serial('scan --format openvex and cyclonedx-vex: the decisions of the scanned image, which vex import takes back', async (t) => {
  const { env, h, tmp } = t.context;
  const image = `oci:${h.dir}:cli`;
  const exception = await api(h, 'POST', '/api/v1/exceptions', { vulnerability: 'CVE-2026-1002', reason: 'busybox wget is not used', author: 'sec@example.test', expires: new Date(Date.now() + 86_400_000).toISOString() });
  t.is(exception.status, 201);
  t.is((await runCli(['vex', 'import', FIXTURE('openvex-libssl3.json')], env)).status, 0);

  const openvex = await runCli(['scan', image, '--format', 'openvex'], env);
  t.is(openvex.status, 0, openvex.stderr);
  const doc = JSON.parse(openvex.stdout) as { '@context': string; statements: Array<{ vulnerability: { name: string }; status: string; justification?: string; action_statement?: string }> };
  t.is(doc['@context'], 'https://openvex.dev/ns/v0.2.0');
  t.deepEqual(doc.statements.map((s) => [s.vulnerability.name, s.status]).sort(), [['CVE-2026-1001', 'not_affected'], ['CVE-2026-1002', 'affected']]);
  t.regex(doc.statements.find((s) => s.vulnerability.name === 'CVE-2026-1002')!.action_statement!, new RegExp(`^Risk accepted by sec@example\\.test until \\S+ \\(exception ${exception.json.id}\\): busybox wget is not used$`));

  const cdx = await runCli(['scan', image, '--format', 'cyclonedx-vex'], env);
  const bom = JSON.parse(cdx.stdout) as { bomFormat: string; vulnerabilities: Array<{ id: string; analysis: { state: string; response?: string[] } }> };
  t.is(bom.bomFormat, 'CycloneDX');
  t.deepEqual(bom.vulnerabilities.map((v) => [v.id, v.analysis.state, v.analysis.response ?? []]).sort(), [['CVE-2026-1001', 'not_affected', []], ['CVE-2026-1002', 'exploitable', ['will_not_fix']]]);
  const file = path.join(tmp, 'export.cdx.json');
  await writeFile(file, cdx.stdout);
  const back = await runCli(['vex', 'import', file], env);
  t.is(back.status, 0, back.stderr);
  t.regex(back.stdout, /^imported cyclonedx document \d+ \(urn:uuid:[0-9a-f-]+\): 2 statements, 0 skipped/);
});

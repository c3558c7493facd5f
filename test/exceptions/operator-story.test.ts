import anyTest, { type TestFn } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { verifyWebhook } from '../../src/notifier/webhook-signature.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import { freePort, HAVE_REGISTRY, NO_REGISTRY, pushImage, startRegistry, type RunningRegistry } from '../helpers/registry-harness.ts';
import { testConfig } from '../helpers/test-config.ts';
import { parseMail, startSmtpReceiver, type ReceivedMail } from '../notifier/smtp-receiver.ts';
import { startReceiver, type ReceivedRequest } from '../notifier/notifier-harness.ts';
import { alpineAdvisory, alpineLayerFiles, api, API_KEY, eventually } from '../vex/operator-harness.ts';

// The whole story with a real registry, a real webhook receiver and a real SMTP server: images
// pushed and indexed; operator advisories added and withdrawn notify like feed updates; VEX and
// exceptions keep suppressed findings out of notifications; an exception that expires brings its
// finding back and notifies once.

interface Context {
  db: TestDatabase;
  registry: RunningRegistry;
  lookout: Lookout;
  base: string;
  hooks: ReceivedRequest[];
  mail: ReceivedMail[];
  web: BuiltManifest;
  tool: BuiltManifest;
  dir: string;
}

const test = anyTest as TestFn<Context>;
const maybe = HAVE_REGISTRY ? test.serial : test.serial.skip;
const note = HAVE_REGISTRY ? '' : NO_REGISTRY;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const closers: Array<() => Promise<void>> = [];

const PACKAGES: Array<[string, string, string]> = [
  ['busybox', '1.36.1-r15', 'busybox'],
  ['libcrypto3', '3.1.4-r0', 'openssl'],
  ['libssl3', '3.1.4-r0', 'openssl'],
];

if (HAVE_REGISTRY) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-operator-story-'));
    const layout = await OciLayoutBuilder.create(dir);
    const base = await layout.addLayer(alpineLayerFiles(PACKAGES));
    const extra = await layout.addLayer([{ path: 'usr/local/bin/tool', content: '#!/bin/sh\necho tool\n', mode: 0o755 }]);
    const web = await layout.addImage({ layers: [base], platform: { os: 'linux', architecture: 'amd64' } });
    const tool = await layout.addImage({ layers: [base, extra], platform: { os: 'linux', architecture: 'amd64' } });
    await layout.tag('web', web);
    await layout.tag('tool', tool);

    const db = await createTestDatabase('operator_story');
    const port = await freePort();
    const registry = await startRegistry({ notifications: { url: `http://127.0.0.1:${port}/webhooks/distribution/local`, secret: 'story-webhook-secret' } });
    const owner = { teardown: (fn: () => Promise<void>) => void closers.push(fn) };
    const hooks = await startReceiver(owner, (_n, _req, res) => void res.writeHead(204).end());
    const smtp = await startSmtpReceiver(owner);
    const config = testConfig(db.url, {
      server: { port },
      registries: [{ name: 'local', url: registry.url, webhookSecret: 'story-webhook-secret' }],
      intake: { debounceSeconds: 0 },
      auth: { api: { mode: 'api-key', keys: [API_KEY] } },
      exceptions: { checkIntervalSeconds: 5 },
      notifier: {
        publicBaseUrl: 'http://lookout.example.test',
        currentImageDays: 0,
        batchWindowSeconds: 0,
        pollIntervalSeconds: 0.2,
        retryBaseSeconds: 0.2,
        smtp: { host: '127.0.0.1', port: smtp.port, security: 'none', from: 'Lookout <lookout@example.test>' },
      },
      subscriptions: [
        { name: 'ops-hook', repositories: ['demo/**'], channel: { type: 'webhook', url: hooks.url, secret: SECRET }, minSeverity: 'Unknown', events: ['newly-affected', 'fix-available', 'resolved', 'exception-expired'] },
        { name: 'ops-mail', repositories: ['demo/web'], channel: { type: 'email', recipients: ['ops@example.test'] }, minSeverity: 'Unknown', events: ['newly-affected'] },
      ],
    });
    const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
    t.context = { db, registry, lookout, base: `http://127.0.0.1:${port}`, hooks: hooks.requests, mail: smtp.messages, web, tool, dir };
    await lookout.start();
    await pushImage(dir, 'web', registry, 'demo/web:v1');
    await pushImage(dir, 'tool', registry, 'demo/tool:v1');
    for (const digest of [web.digest, tool.digest]) {
      for (let i = 0; i < 300 && (await lookout.images.manifestByDigest(digest))?.status !== 'done'; i++) await sleep(200);
    }
  });

  test.after.always(async (t) => {
    await t.context.lookout?.stop();
    for (const close of closers) await close();
    await t.context.registry?.stop();
    await t.context.db?.drop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

/** Outbox rows of one event: `digest vulnerability package` lines. */
async function outbox(t: { context: Context }, event: string): Promise<string[]> {
  const rows = await t.context.db
    .knex('notifications as n')
    .join('notification_payloads as p', 'p.id', 'n.id')
    .join('subscriptions as s', 's.id', 'n.subscription_id')
    .where({ 'n.event': event, 's.name': 'ops-hook' })
    .select('p.payload');
  return rows.map((r) => `${r.payload.image.digest} ${r.payload.finding.vulnerability} ${r.payload.finding.package}`).sort();
}

/** Webhook bodies received so far (signatures checked): `type digest vulnerability package` lines. */
function received(t: { context: Context }): string[] {
  const out: string[] = [];
  for (const req of t.context.hooks) {
    const verdict = verifyWebhook(SECRET, req.headers as Record<string, string>, req.body);
    if (!verdict.ok) throw new Error(`webhook signature did not verify: ${JSON.stringify(verdict)}`);
    const body = JSON.parse(req.body) as { type: string; data: { images: Array<{ digest: string; findings: Array<{ event: string; vulnerability: string; package: string }> }> } };
    for (const image of body.data.images) for (const f of image.findings) out.push(`${f.event} ${image.digest} ${f.vulnerability} ${f.package}`);
  }
  return out.sort();
}

async function hooksUntil(t: { context: Context }, check: (lines: string[]) => boolean): Promise<string[]> {
  return eventually(async () => received(t), check, 15_000);
}

async function findings(t: { context: Context }, digest: string, include = false) {
  const res = await api(t.context, 'GET', `/api/v1/images/${digest}${include ? '?suppressed=include' : ''}`);
  return res.json.report as { findings: Array<{ vulnerability: string; package: { name: string } }>; suppressedFindings?: Array<{ vulnerability: string; package: { name: string }; suppression: { by: string; id: string; expires: string | null; reason: string | null } }>; summary: { suppressed: Record<string, { findings: number }> } };
}

maybe(`an advisory for a package of indexed images: the finding appears, signed webhooks and an email with the upgrade are sent${note}`, async (t) => {
  const { web, tool } = t.context;
  t.deepEqual(received(t), [], 'no data, no finding, no message yet');
  const res = await api(t.context, 'POST', '/api/v1/advisories', alpineAdvisory('CVE-2026-3001', 'openssl', '3.1.5-r0'));
  t.is(res.status, 201, res.text);
  t.is(res.json.applied.counts.notifications, 6, 'libssl3 and libcrypto3 of web (webhook and email) and of tool (webhook)');
  const expected = [
    `newly-affected ${tool.digest} CVE-2026-3001 libssl3`,
    `newly-affected ${web.digest} CVE-2026-3001 libssl3`,
  ];
  // libcrypto3 comes from openssl too: the advisory names the source package.
  expected.push(`newly-affected ${tool.digest} CVE-2026-3001 libcrypto3`, `newly-affected ${web.digest} CVE-2026-3001 libcrypto3`);
  t.deepEqual(await hooksUntil(t, (l) => l.length >= 4), expected.sort());
  const web1 = await findings(t, web.digest);
  t.deepEqual(web1.findings.map((f) => `${f.vulnerability} ${f.package.name}`).sort(), ['CVE-2026-3001 libcrypto3', 'CVE-2026-3001 libssl3']);
  const mail = await eventually(async () => t.context.mail, (m) => m.length >= 1, 15_000);
  t.is(mail.length, 1);
  const parsed = parseMail(mail[0]!.raw);
  t.regex(parsed.headers.get('subject') ?? '', /newly affected by CVE-2026-3001/);
  t.true(parsed.text?.includes('Upgrades that fix these:'), parsed.text ?? undefined);
  t.true(parsed.text?.includes('libssl3 3.1.4-r0 -> 3.1.5-r0 removes 1 (1 High)'), parsed.text ?? undefined);
  t.true(parsed.html?.includes('&rarr; <strong>3.1.5-r0</strong>'));
});

maybe(`VEX not_affected for one image: a new advisory of that vulnerability notifies the other image only${note}`, async (t) => {
  const { web, tool } = t.context;
  const vex = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'urn:test:story-vex',
    author: 'story',
    timestamp: '2026-01-01T00:00:00Z',
    statements: [{ vulnerability: { name: 'CVE-2026-3002' }, products: [{ '@id': `pkg:oci/tool@${encodeURIComponent(tool.digest)}`, subcomponents: [{ '@id': 'pkg:apk/alpine/busybox' }] }], status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }],
  };
  t.is((await api(t.context, 'POST', '/api/v1/vex', vex)).status, 201);
  const before = received(t).length;
  const res = await api(t.context, 'POST', '/api/v1/advisories', alpineAdvisory('CVE-2026-3002', 'busybox', '1.36.1-r20'));
  t.is(res.json.applied.counts.notifications, 2, 'web (webhook and email); the row for the tool image was dropped in the run');
  const lines = await hooksUntil(t, (l) => l.length >= before + 1);
  await sleep(1000);
  t.deepEqual(received(t).slice(0).filter((l) => l.includes('CVE-2026-3002')), [`newly-affected ${web.digest} CVE-2026-3002 busybox`]);
  t.is(received(t).length, lines.length, 'nothing more');
  t.deepEqual(await outbox(t, 'newly-affected').then((rows) => rows.filter((r) => r.includes('CVE-2026-3002'))), [`${web.digest} CVE-2026-3002 busybox`]);
  const tool1 = await findings(t, tool.digest, true);
  t.deepEqual(tool1.suppressedFindings?.map((f) => `${f.vulnerability} ${f.package.name} ${f.suppression.by}`), ['CVE-2026-3002 busybox vex']);
});

maybe(`withdrawing an advisory: the findings disappear and resolved is sent${note}`, async (t) => {
  const { web, tool } = t.context;
  const before = received(t).length;
  const res = await api(t.context, 'DELETE', '/api/v1/advisories/CVE-2026-3001');
  t.is(res.status, 200);
  const lines = await hooksUntil(t, (l) => l.length >= before + 4);
  t.deepEqual(lines.filter((l) => l.startsWith('resolved')), [
    `resolved ${tool.digest} CVE-2026-3001 libcrypto3`,
    `resolved ${tool.digest} CVE-2026-3001 libssl3`,
    `resolved ${web.digest} CVE-2026-3001 libcrypto3`,
    `resolved ${web.digest} CVE-2026-3001 libssl3`,
  ].sort());
  const web2 = await eventually(() => findings(t, web.digest), (r) => !r.findings.some((f) => f.vulnerability === 'CVE-2026-3001'));
  t.deepEqual(web2.findings.map((f) => f.vulnerability), ['CVE-2026-3002']);
});

maybe(`exceptions: a live one keeps a new finding out of reports and notifications; one that expires brings it back and notifies once${note}`, async (t) => {
  const { web, tool, db } = t.context;
  // The web image's busybox finding, accepted for a few seconds.
  const expires = new Date(Date.now() + 4000).toISOString();
  const created = await api(t.context, 'POST', '/api/v1/exceptions', { vulnerability: 'CVE-2026-3002', package: 'busybox', repository: 'demo/web', reason: 'mitigated by the WAF until the rebuild', author: 'ops@example.test', expires });
  t.is(created.status, 201, created.text);
  t.like(created.json, { vulnerability: 'CVE-2026-3002', package: 'busybox', repository: 'demo/web', author: 'ops@example.test', state: 'active' });
  const accepted = await eventually(() => findings(t, web.digest, true), (r) => r.findings.length === 0);
  t.deepEqual(accepted.findings, []);
  t.like(accepted.suppressedFindings?.[0], { vulnerability: 'CVE-2026-3002', suppression: { by: 'exception', id: created.json.id, reason: 'mitigated by the WAF until the rebuild', expires: new Date(expires).toISOString() } });
  t.deepEqual(accepted.summary.suppressed.exception, { packages: 1, findings: 1 });

  // A live exception for a vulnerability no feed knows yet: when an advisory brings it, nobody hears of it.
  const long = await api(t.context, 'POST', '/api/v1/exceptions', { vulnerability: 'CVE-2026-3003', reason: 'accepted platform-wide', author: 'ops@example.test', expires: new Date(Date.now() + 86_400_000).toISOString() });
  t.is(long.status, 201);
  const before = received(t).length;
  const added = await api(t.context, 'POST', '/api/v1/advisories', alpineAdvisory('CVE-2026-3003', 'openssl', '3.1.6-r0'));
  t.is(added.json.applied.counts.notifications, 0, 'every row of the run dropped');
  t.is((await findings(t, tool.digest, true)).suppressedFindings?.filter((f) => f.vulnerability === 'CVE-2026-3003').length, 2);

  // The short exception expires; the expiry check (every 5 s) notifies once per (subscription, image, finding).
  const lines = await hooksUntil(t, (l) => l.length >= before + 1);
  t.deepEqual(lines.filter((l) => l.startsWith('exception-expired')), [`exception-expired ${web.digest} CVE-2026-3002 busybox`]);
  const back = await eventually(() => findings(t, web.digest), (r) => r.findings.some((f) => f.vulnerability === 'CVE-2026-3002'));
  t.deepEqual(back.findings.map((f) => f.vulnerability), ['CVE-2026-3002']);
  t.like((await api(t.context, 'GET', `/api/v1/exceptions/${created.json.id}`)).json, { state: 'expired' });
  // Another check or two: nothing more.
  await sleep(11_000);
  t.deepEqual(received(t).filter((l) => l.startsWith('exception-expired')), [`exception-expired ${web.digest} CVE-2026-3002 busybox`]);
  t.deepEqual(await outbox(t, 'exception-expired'), [`${web.digest} CVE-2026-3002 busybox`]);
  t.not((await db.knex('exceptions').where({ id: created.json.id }).first('expiry_processed_at')).expiry_processed_at, null);
  t.is(received(t).filter((l) => l.includes('CVE-2026-3003')).length, 0, 'the accepted vulnerability was never notified');
});

import anyTest, { type TestFn } from 'ava';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { verifyWebhook } from '../../src/notifier/webhook-signature.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES } from '../helpers/fixtures.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import { deleteManifest, freePort, HAVE_REGISTRY, pushImage, startRegistry, type RunningRegistry } from '../helpers/registry-harness.ts';
import { testConfig } from '../helpers/test-config.ts';
import { parseMail, startSmtpReceiver, type ReceivedMail } from '../notifier/smtp-receiver.ts';
import { startReceiver, type ReceivedRequest } from '../notifier/notifier-harness.ts';

interface Context {
  db: TestDatabase;
  registry: RunningRegistry;
  lookout: Lookout;
  feeds: FeedServer;
  mail: ReceivedMail[];
  hooks: ReceivedRequest[];
  debian: BuiltManifest;
  alpine: BuiltManifest;
  dir: string;
  tracker: Record<string, Record<string, unknown>>;
}

const test = anyTest as TestFn<Context>;
const ready = HAVE_REGISTRY && HAVE_FIXTURES;
const maybe = ready ? test.serial : test.serial.skip;
const note = ready ? '' : ' (skipped: needs docker-registry, skopeo and the shared fixtures)';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const closers: (() => Promise<void>)[] = [];

const dpkg = (name: string, version: string, source?: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n${source ? `Source: ${source}\n` : ''}Maintainer: Debian Chromium Team <chromium@packages.debian.org>\nDescription: x\n`;

/** An Alpine secdb file (the real format) for v3.19/main. */
const secdb = (fixes: Record<string, string[]>) =>
  JSON.stringify({ distroversion: 'v3.19', reponame: 'main', urlprefix: 'https://dl-cdn.alpinelinux.org/alpine', apkurl: '', archs: ['x86_64'], packages: [{ pkg: { name: 'openssl', secfixes: fixes } }] });

function serveAlpine(feeds: FeedServer, fixes: Record<string, string[]>): void {
  feeds.set('/alpine/', { body: '<html><a href="v3.19/">v3.19/</a></html>', contentType: 'text/html' });
  feeds.set('/alpine/v3.19/', { body: '<html><a href="main.json">main.json</a></html>', contentType: 'text/html' });
  feeds.set('/alpine/v3.19/main.json', { body: secdb(fixes) });
}

/** Serves the Debian tracker sample with `chromium` entries added or changed for bookworm. */
function serveDebian(t: { context: Context }, chromium: Record<string, unknown>): void {
  const tracker = structuredClone(t.context.tracker);
  tracker.chromium = { ...(tracker.chromium ?? {}), ...chromium };
  t.context.feeds.set('/debian/json', { body: JSON.stringify(tracker) });
}

const open = (id: string) => ({ [id]: { description: `${id} in chromium`, scope: 'remote', releases: { bookworm: { status: 'open', urgency: 'high', repositories: { bookworm: '97.0.4692.99-1' } } } } });
const fixed = (id: string, version: string) => ({ [id]: { description: `${id} in chromium`, scope: 'remote', releases: { bookworm: { status: 'resolved', fixed_version: version, urgency: 'high', repositories: { bookworm: version } } } } });

if (ready) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-notify-'));
    const layout = await OciLayoutBuilder.create(dir);
    const debianLayer = await layout.addLayer([
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
      { path: 'var/lib/dpkg/status', content: [dpkg('chromium', '97.0.4692.99-1'), dpkg('libsope1', '5.8.0-1', 'sope')].join('\n') },
    ]);
    const alpineLayer = await layout.addLayer([
      { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' },
      { path: 'etc/apk/repositories', content: 'https://dl-cdn.alpinelinux.org/alpine/v3.19/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.19/community\n' },
      { path: 'lib/apk/db/installed', content: 'C:Q1abc=\nP:libssl3\nV:3.1.4-r0\nA:x86_64\no:openssl\nm:Alpine Maintainers\n\n' },
    ]);
    const debian = await layout.addImage({ layers: [debianLayer], platform: { os: 'linux', architecture: 'amd64' } });
    const alpine = await layout.addImage({ layers: [alpineLayer], platform: { os: 'linux', architecture: 'amd64' } });
    await layout.tag('debian', debian);
    await layout.tag('alpine', alpine);

    const feeds = await startFeedServer();
    const tracker = JSON.parse(readFileSync(fixture('feeds/debian/vunnel-security-tracker-sample.json'), 'utf8')) as Context['tracker'];
    const db = await createTestDatabase('notify_story');
    const port = await freePort();
    const registry = await startRegistry({ notifications: { url: `http://127.0.0.1:${port}/webhooks/distribution/local`, secret: 'notify-webhook-secret' } });
    // The receivers live for the whole file: their closers run in the after hook.
    const owner = { teardown: (fn: () => Promise<void>) => void closers.push(fn) };
    const smtp = await startSmtpReceiver(owner);
    const hooks = await startReceiver(owner, (_n, _req, res) => void res.writeHead(204).end());
    const config = testConfig(db.url, {
      server: { port },
      registries: [{ name: 'local', url: registry.url, webhookSecret: 'notify-webhook-secret' }],
      intake: { debounceSeconds: 0 },
      feeds: {
        enabled: true,
        debian: { url: feeds.url('/debian/json'), options: { releases: ['bookworm'] } },
        alpine: { url: feeds.url('/alpine/'), options: { releases: ['3.19'], repositories: ['main'] } },
      },
      notifier: {
        publicBaseUrl: 'http://lookout.example.test',
        currentImageDays: 0,
        batchWindowSeconds: 0,
        pollIntervalSeconds: 0.2,
        retryBaseSeconds: 0.2,
        smtp: { host: '127.0.0.1', port: smtp.port, security: 'none', from: 'Lookout <lookout@example.test>' },
      },
      subscriptions: [
        // Unknown: Alpine's secdb rates nothing (without NVD data the advisory's severity is Unknown).
        { name: 'ops-mail', repositories: ['demo/**'], channel: { type: 'email', recipients: ['ops@example.test'] }, minSeverity: 'Unknown', events: ['newly-affected', 'fix-available', 'resolved'] },
        { name: 'ops-hook', repositories: ['demo/**'], channel: { type: 'webhook', url: hooks.url, secret: SECRET }, minSeverity: 'Unknown', events: ['newly-affected', 'fix-available', 'resolved'] },
        // A High threshold hears nothing of the Alpine advisory (Unknown severity).
        { name: 'high-only', repositories: ['demo/edge'], channel: { type: 'webhook', url: hooks.url.replace('/hooks/', '/high/'), secret: SECRET }, minSeverity: 'High', events: ['newly-affected'] },
      ],
    });
    const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
    t.context = { db, registry, lookout, feeds, mail: smtp.messages, hooks: hooks.requests, debian, alpine, dir, tracker };
    serveDebian(t, {});
    serveAlpine(feeds, { '3.0.7-r0': ['CVE-2022-3602'] });
    const first = await lookout.feeds.runNow(['debian', 'alpine']);
    if (first.some((o) => o.state !== 'changed')) throw new Error(`feeds did not load: ${JSON.stringify(first)}`);
    await lookout.start();
    await pushImage(dir, 'debian', registry, 'demo/web:v1');
    await pushImage(dir, 'alpine', registry, 'demo/edge:v1');
    for (const digest of [debian.digest, alpine.digest]) {
      for (let i = 0; i < 300; i++) {
        const row = await lookout.images.manifestByDigest(digest);
        if (row?.status === 'done') break;
        await sleep(200);
      }
    }
  });

  test.after.always(async (t) => {
    await t.context.lookout?.stop();
    for (const close of closers) await close();
    await t.context.registry?.stop();
    await t.context.feeds?.close();
    await t.context.db?.drop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

/** Waits until `count` mails and hooks arrived (or the timeout), then a little more to catch extras. */
async function settle(t: { context: Context }, mails: number, hooks: number): Promise<void> {
  for (let i = 0; i < 100 && (t.context.mail.length < mails || t.context.hooks.length < hooks); i++) await sleep(100);
  await sleep(1500);
}

function lastHook(t: { context: Context }): { event: string; body: any } {
  const req = t.context.hooks[t.context.hooks.length - 1]!;
  const verdict = verifyWebhook(SECRET, req.headers as Record<string, string>, req.body);
  if (!verdict.ok) throw new Error(`webhook signature did not verify: ${JSON.stringify(verdict)}`);
  return { event: JSON.parse(req.body).type, body: JSON.parse(req.body) };
}

maybe(`a feed update that makes an indexed Debian image vulnerable sends exactly one email and one signed webhook${note}`, async (t) => {
  t.is(t.context.mail.length, 0, 'nothing before the change');
  t.is(t.context.hooks.length, 0);
  serveDebian(t, open('CVE-2026-0100'));
  const [run] = await t.context.lookout.feeds.runNow(['debian']);
  t.is(run?.state, 'changed');
  await settle(t, 1, 1);
  t.is(t.context.mail.length, 1);
  t.is(t.context.hooks.length, 1);
  const mail = parseMail(t.context.mail[0]!.raw);
  t.deepEqual(t.context.mail[0]!.to, ['ops@example.test']);
  t.regex(mail.headers.get('subject') ?? '', /newly affected by CVE-2026-0100/);
  t.true(mail.text?.includes('chromium') && mail.text.includes('97.0.4692.99-1'));
  t.true(mail.html?.includes('CVE-2026-0100'));
  t.true(mail.text?.includes(`http://lookout.example.test/api/v1/images/${t.context.debian.digest}`));
  const hook = lastHook(t);
  t.is(hook.event, 'lookout.newly-affected');
  t.true(JSON.stringify(hook.body).includes(t.context.debian.digest));
  t.true(JSON.stringify(hook.body).includes('demo/web'));
});

maybe(`the same data again sends nothing${note}`, async (t) => {
  const [run] = await t.context.lookout.feeds.runNow(['debian']);
  t.is(run?.state, 'unchanged');
  await sleep(1500);
  t.is(t.context.mail.length, 1);
  t.is(t.context.hooks.length, 1);
});

maybe(`an Alpine advisory for the origin package reaches the Alpine image${note}`, async (t) => {
  serveAlpine(t.context.feeds, { '3.0.7-r0': ['CVE-2022-3602'], '3.1.5-r0': ['CVE-2026-0200'] });
  const [run] = await t.context.lookout.feeds.runNow(['alpine']);
  t.is(run?.state, 'changed');

  await settle(t, 2, 2);
  t.is(t.context.mail.length, 2);
  t.is(t.context.hooks.length, 2);
  const hook = lastHook(t);
  t.true(JSON.stringify(hook.body).includes('CVE-2026-0200'));
  t.true(JSON.stringify(hook.body).includes(t.context.alpine.digest));
  t.true(JSON.stringify(hook.body).includes('libssl3'));
});

maybe(`a published fix sends fix-available; a poll right after shows the fix${note}`, async (t) => {
  serveDebian(t, fixed('CVE-2026-0100', '99.0.4844.51-1'));
  const [run] = await t.context.lookout.feeds.runNow(['debian']);
  t.is(run?.state, 'changed');
  await settle(t, 3, 3);
  t.is(t.context.mail.length, 3);
  t.is(t.context.hooks.length, 3);
  t.is(lastHook(t).event, 'lookout.fix-available');
  t.regex(parseMail(t.context.mail[2]!.raw).headers.get('subject') ?? '', /Fix available/i);
  const report = await t.context.lookout.reports.report((await t.context.lookout.images.manifestByDigest(t.context.debian.digest))!.id);
  const finding = report.report.findings.find((f) => f.vulnerability === 'CVE-2026-0100');
  t.is(finding?.fixedVersion, '99.0.4844.51-1');
});

maybe(`once the image's tag is gone, further changes send nothing about it${note}`, async (t) => {
  t.is(await deleteManifest(t.context.registry, 'demo/web', t.context.debian.digest), 202);
  const repo = await t.context.lookout.images.repositoryId(1, 'demo/web');
  for (let i = 0; i < 100 && (await t.context.lookout.images.currentTag(repo, 'v1')) !== null; i++) await sleep(100);
  serveDebian(t, { ...fixed('CVE-2026-0100', '99.0.4844.51-1'), ...open('CVE-2026-0101') });
  const [run] = await t.context.lookout.feeds.runNow(['debian']);
  t.is(run?.state, 'changed');
  await sleep(2000);
  t.is(t.context.mail.length, 3);
  t.is(t.context.hooks.length, 3);
});

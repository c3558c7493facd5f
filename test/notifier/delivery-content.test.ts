import test from 'ava';
import { clairNotificationPage } from '../../src/notifier/clair-notification-page.ts';
import { buildDeliveryContent, type ContentInput } from '../../src/notifier/delivery-content.ts';
import { imageLinks, parseNotificationPayload, publicBase } from '../../src/notifier/notification-payload.ts';
import { renderEmail } from '../../src/notifier/render-email.ts';
import { retryDelay } from '../../src/notifier/retry-delay.ts';
import { parseSubscriptionTarget } from '../../src/notifier/subscription-target.ts';
import { TokenBucketLimiter } from '../../src/notifier/token-bucket-limiter.ts';
import { clairCallbackBody, webhookBody } from '../../src/notifier/webhook-body.ts';
import { payloadFor, PUBLIC_BASE, randomDigest, type FindingSpec } from './notifier-harness.ts';

function rows(specs: { digest: string; spec?: FindingSpec }[]): ContentInput[] {
  return specs.map(({ digest, spec }, i) => ({ notificationId: `n${i}`, payload: payloadFor(digest, spec) }));
}

test('one vulnerability newly affecting three images: the subject says so', (t) => {
  const [a, b, c] = [randomDigest(), randomDigest(), randomDigest()];
  const content = buildDeliveryContent(rows([{ digest: a! }, { digest: b!, spec: { repository: 'team/api' } }, { digest: c!, spec: { repository: 'team/web', tags: [] } }]));
  t.is(content.summary, '3 images newly affected by CVE-2026-1234 (critical)');
  t.deepEqual(content.events, ['newly-affected']);
  t.is(content.images.length, 3);
  t.is(content.highestSeverity, 'Critical');
});

test('subjects for one image, fixes, resolutions, several vulnerabilities and mixed batches', (t) => {
  const d = randomDigest();
  t.is(buildDeliveryContent(rows([{ digest: d, spec: { severity: 'High' } }])).summary, '1 image newly affected by CVE-2026-1234 (high)');
  t.is(buildDeliveryContent(rows([{ digest: d, spec: { event: 'fix-available' } }, { digest: randomDigest(), spec: { event: 'fix-available' } }])).summary, 'Fix available for CVE-2026-1234 in 2 images');
  t.is(
    buildDeliveryContent(rows([{ digest: d, spec: { event: 'fix-available' } }, { digest: d, spec: { event: 'fix-available', vulnerability: 'CVE-2026-9' } }])).summary,
    'Fixes available for 2 vulnerabilities in 1 image',
  );
  t.is(buildDeliveryContent(rows([{ digest: d, spec: { event: 'resolved' } }])).summary, 'CVE-2026-1234 resolved in 1 image');
  t.is(
    buildDeliveryContent(rows([{ digest: d, spec: { vulnerability: 'CVE-2026-1', severity: 'Low' } }, { digest: d, spec: { vulnerability: 'CVE-2026-2', severity: 'Medium' } }])).summary,
    '1 image newly affected by 2 vulnerabilities (highest: medium)',
  );
  t.is(
    buildDeliveryContent(rows([{ digest: d }, { digest: randomDigest(), spec: { event: 'resolved', vulnerability: 'CVE-2025-7', severity: 'Low' } }])).summary,
    '2 vulnerability changes in 2 images (highest: critical)',
  );
  t.is(buildDeliveryContent(rows([{ digest: d, spec: { event: 'new-image', severity: 'Medium' } }])).summary, 'New image registry.example.test/team/app:1.0 has CVE-2026-1234 (medium)');
  t.is(buildDeliveryContent(rows([{ digest: d, spec: { event: 'exception-expired' } }])).summary, 'Exception for CVE-2026-1234 expired in 1 image');
});

test('rows of one image are grouped, tags merged, findings most severe first', (t) => {
  const d = randomDigest();
  const content = buildDeliveryContent(
    rows([
      { digest: d, spec: { vulnerability: 'CVE-2026-1', severity: 'Low', tags: ['1.0'] } },
      { digest: d, spec: { vulnerability: 'CVE-2026-2', severity: 'Critical', tags: ['latest'] } },
      { digest: d, spec: { vulnerability: 'CVE-2026-3', severity: 'High', package: 'zlib1g' } },
    ]),
  );
  t.is(content.images.length, 1);
  t.deepEqual(content.images[0]!.tags, ['1.0', 'latest']);
  t.deepEqual(
    content.images[0]!.findings.map((f) => f.vulnerability),
    ['CVE-2026-2', 'CVE-2026-3', 'CVE-2026-1'],
  );
  t.deepEqual(content.vulnerabilities, ['CVE-2026-2', 'CVE-2026-3', 'CVE-2026-1']);
  t.deepEqual(content.images[0]!.links, imageLinks(PUBLIC_BASE, d));
  t.is(content.images[0]!.links.status, `${PUBLIC_BASE}/api/v1/images/${d}`);
  t.is(content.images[0]!.links.report, `${PUBLIC_BASE}/images/${d}`);
});

test('the email has every finding in both parts, and escapes what the payload says', (t) => {
  const d = randomDigest();
  const input = rows([{ digest: d, spec: { package: '<script>alert(1)</script>', fixedVersion: null } }, { digest: d, spec: { vulnerability: 'CVE-2026-77', event: 'resolved', severity: 'Low' } }]);
  const content = buildDeliveryContent(input);
  const email = renderEmail(content, { deliveryId: 'd-1', subscriptionName: 'ops "team"' });
  t.is(email.subject, '2 vulnerability changes in 1 image (highest: critical)');
  const layer = input[0]!.payload.finding.layer!;
  for (const part of [email.text, email.html]) {
    t.true(part.includes(d));
    t.true(part.includes('CVE-2026-1234'));
    t.true(part.includes('CVE-2026-77'));
    t.true(part.includes('3.0.11-1~deb12u1'));
    t.true(part.includes(`${PUBLIC_BASE}/images/${d}`));
    t.true(part.includes(`${PUBLIC_BASE}/api/v1/images/${d}`));
    t.true(part.includes(layer));
    t.true(part.includes('d-1'));
  }
  t.true(email.text.includes('no fix yet'));
  t.true(email.text.includes('[Critical] CVE-2026-1234 in <script>alert(1)</script> 3.0.11-1~deb12u1, no fix yet (newly affected)'));
  t.false(email.html.includes('<script>'));
  t.true(email.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.true(email.html.includes('ops &quot;team&quot;'));
});

test('the webhook body carries the full payload; the Clair body the callback', (t) => {
  const d = randomDigest();
  const content = buildDeliveryContent(rows([{ digest: d }]));
  const body = webhookBody(content, { id: 'delivery-1', createdAt: new Date('2026-11-22T10:00:00Z'), subscription: { id: 's-1', name: 'ops' } });
  t.is(body.type, 'lookout.newly-affected');
  t.is(body.timestamp, '2026-11-22T10:00:00.000Z');
  t.is(body.data.id, 'delivery-1');
  t.like(body.data.images[0], { registry: 'registry.example.test', repository: 'team/app', tags: ['1.0'], digest: d });
  t.like(body.data.images[0]!.findings[0], { vulnerability: 'CVE-2026-1234', package: 'openssl', installedVersion: '3.0.11-1~deb12u1', fixedVersion: '3.0.11-1~deb12u2', severity: 'Critical', event: 'newly-affected' });
  t.deepEqual(clairCallbackBody('delivery-1', `${PUBLIC_BASE}/`), {
    notification_id: 'delivery-1',
    callback: `${PUBLIC_BASE}/notifier/api/v1/notification/delivery-1`,
  });
});

test('payloads are checked: a bad digest, severity or link is a reason, not a crash', (t) => {
  const d = randomDigest();
  t.true(parseNotificationPayload(payloadFor(d)).ok);
  t.like(parseNotificationPayload({ ...payloadFor(d), image: { ...payloadFor(d).image, digest: 'sha256:nope' } }), { ok: false, reason: 'image.digest: must be a sha256/sha512 digest' });
  t.like(parseNotificationPayload({ ...payloadFor(d), finding: { ...payloadFor(d).finding, severity: 'Severe' } }), { ok: false });
  t.like(parseNotificationPayload({ ...payloadFor(d), links: { status: 'javascript:alert(1)', report: 'x' } }), { ok: false });
  t.like(parseNotificationPayload(null), { ok: false });
  t.like(parseNotificationPayload('{"version":1}'), { ok: false });
  t.throws(() => imageLinks('ftp://x', d), { message: /http/ });
  t.throws(() => imageLinks(PUBLIC_BASE, 'latest'), { message: /digest/ });
  t.is(publicBase('https://lookout.example.test/'), 'https://lookout.example.test');
});

test('subscription targets are checked against their channel', (t) => {
  t.deepEqual(parseSubscriptionTarget('email', { recipients: ['a@example.test', 'a@example.test', 'b@example.test'] }), { ok: true, target: { channel: 'email', recipients: ['a@example.test', 'b@example.test'] } });
  t.like(parseSubscriptionTarget('email', { recipients: [] }), { ok: false });
  t.like(parseSubscriptionTarget('email', { recipients: ['not an address'] }), { ok: false });
  t.like(parseSubscriptionTarget('webhook', { url: 'https://hooks.example.test/x' }), { ok: true });
  t.like(parseSubscriptionTarget('clair', {}), { ok: false, reason: 'clair target: url: Invalid input: expected string, received undefined' });
});

test('the Clair notification page pages by id and maps events to added/removed', (t) => {
  const d = randomDigest();
  const make = (id: string, spec: FindingSpec) => ({ id, subscriptionId: 's', manifestId: 1, vulnName: 'v', event: 'e', updateRunId: null, payload: payloadFor(d, spec), createdAt: new Date() });
  const page = clairNotificationPage([make('a', {}), make('b', { event: 'resolved' }), make('c', {})], 2);
  t.deepEqual(page.page, { size: 2, next: 'b' });
  t.deepEqual(
    page.notifications.map((n) => [n.id, n.reason, n.manifest]),
    [
      ['a', 'added', d],
      ['b', 'removed', d],
    ],
  );
  t.like(page.notifications[0]!.vulnerability, { name: 'CVE-2026-1234', fixed_in_version: '3.0.11-1~deb12u2', normalized_severity: 'Critical', package: { name: 'openssl', version: '3.0.11-1~deb12u1' } });
  t.deepEqual(clairNotificationPage([make('a', {})], 2).page, { size: 1 });
});

test('retry delays grow exponentially with jitter, are capped, and honour Retry-After', (t) => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 8000 };
  t.is(retryDelay(1, policy, null, () => 0), 500);
  t.is(retryDelay(1, policy, null, () => 1), 1000);
  t.is(retryDelay(3, policy, null, () => 1), 4000);
  t.is(retryDelay(10, policy, null, () => 1), 8000);
  t.is(retryDelay(10, policy, null, () => 0), 4000);
  t.is(retryDelay(1, policy, 30_000, () => 1), 30_000);
  t.is(retryDelay(1, policy, 10, () => 1), 1000);
  t.is(retryDelay(1, policy, 10 * 86_400_000, () => 1), 86_400_000);
});

test('the token bucket allows a burst, then the sustained rate, per destination, and blocks', (t) => {
  let now = 0;
  const limiter = new TokenBucketLimiter({ perSecond: 2, burst: 3 }, () => now);
  t.deepEqual([limiter.tryTake('a'), limiter.tryTake('a'), limiter.tryTake('a')], [0, 0, 0]);
  t.is(limiter.tryTake('a'), 500);
  t.is(limiter.tryTake('b'), 0);
  now = 500;
  t.is(limiter.tryTake('a'), 0);
  t.is(limiter.tryTake('a'), 500);
  limiter.block('b', 10_000);
  t.is(limiter.tryTake('b'), 10_000);
  now = 10_500;
  t.is(limiter.tryTake('b'), 0);
});

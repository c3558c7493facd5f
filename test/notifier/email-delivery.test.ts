import test from 'ava';
import { EmailSender } from '../../src/notifier/email-sender.ts';
import type { SmtpConfig } from '../../src/notifier/notifier-config.ts';
import { useDatabase, type TestDatabase } from '../helpers/database.ts';
import { addManifests, addSubscription, deliveryRow, drain, makeDeliverer, PUBLIC_BASE, resetNotifierTables, writeRows } from './notifier-harness.ts';
import { parseMail, startSmtpReceiver } from './smtp-receiver.ts';

const database = useDatabase(test, 'notifier_email');
let db: TestDatabase;
test.before(async () => {
  db = await database();
});
// One deliverer claims every due delivery in the database, so the tests here take turns.
test.beforeEach(async () => {
  await resetNotifierTables(db.knex);
});

function smtpConfig(port: number, overrides: Partial<SmtpConfig> = {}): SmtpConfig {
  return {
    host: '127.0.0.1',
    port,
    security: 'none',
    from: 'Lookout <lookout@example.test>',
    connectTimeoutMs: 1000,
    greetingTimeoutMs: 1000,
    socketTimeoutMs: 2000,
    ...overrides,
  };
}

function emailSender(t: { teardown(fn: () => void): void }, config: SmtpConfig): EmailSender {
  const sender = new EmailSender(config);
  t.teardown(() => sender.close());
  return sender;
}

test.serial('one email per delivery: recipients, subject, Message-ID, both parts with every finding', async (t) => {
  const smtp = await startSmtpReceiver(t);
  const manifests = await addManifests(db.knex, 3);
  const sub = await addSubscription(db.knex, { name: 'security team', channel: 'email', target: { recipients: ['sec@example.test', 'ops@example.test'] } });
  await writeRows(
    db.knex,
    sub,
    manifests.map((manifest, i) => ({ manifest, spec: { repository: `team/app-${i}`, tags: i === 2 ? [] : [`v${i}`] } })),
  );
  const { deliverer } = makeDeliverer(t, db.knex, { email: emailSender(t, smtpConfig(smtp.port)) });

  t.like(await deliverer.runOnce(), { queued: 1, delivered: 1 });
  t.is(smtp.messages.length, 1);
  const message = smtp.messages[0]!;
  t.is(message.from, 'lookout@example.test');
  t.deepEqual(message.to, ['sec@example.test', 'ops@example.test']);
  const mail = parseMail(message.raw);
  const delivery = (await db.knex('notification_deliveries').first()) as { id: string; state: string };
  t.is(delivery.state, 'delivered');
  t.is(mail.headers.get('subject'), '3 images newly affected by CVE-2026-1234 (critical)');
  t.is(mail.headers.get('to'), 'sec@example.test, ops@example.test');
  t.is(mail.headers.get('message-id'), `<${delivery.id}@example.test>`);
  t.is(mail.headers.get('x-lookout-delivery'), delivery.id);
  t.is(mail.headers.get('auto-submitted'), 'auto-generated');
  t.regex(mail.headers.get('content-type')!, /^multipart\/alternative/);
  t.truthy(mail.text);
  t.truthy(mail.html);
  const payloads = (await db.knex('notifications').select('payload')) as { payload: { finding: { layer: string } } }[];
  for (const [i, m] of manifests.entries()) {
    for (const part of [mail.text!, mail.html!]) {
      t.true(part.includes(m.digest), `part names image ${i}`);
      t.true(part.includes(`registry.example.test/team/app-${i}`));
      t.true(part.includes(`${PUBLIC_BASE}/images/${m.digest}`));
      t.true(part.includes(`${PUBLIC_BASE}/api/v1/images/${m.digest}`));
      t.true(part.includes('3.0.11-1~deb12u2'));
      t.true(part.includes('security team'));
    }
  }
  for (const p of payloads) t.true(mail.text!.includes(`introduced in layer ${p.payload.finding.layer}`));
  t.true(mail.text!.includes('[Critical] CVE-2026-1234 in openssl 3.0.11-1~deb12u1, fixed in 3.0.11-1~deb12u2'));
  t.true(mail.text!.includes('(tags: v0)'));
  t.regex(mail.html!, /<td[^>]*>openssl<\/td>/);
});

test.serial('the SMTP server down, then up: delivered after it returns, exactly once', async (t) => {
  const probe = await startSmtpReceiver(t);
  const port = probe.port;
  await probe.close(); // the port is free again: nothing listens there now
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'email', target: { recipients: ['sec@example.test'] } });
  await writeRows(db.knex, sub, [{ manifest: manifest!, spec: { event: 'fix-available' } }]);
  const { deliverer } = makeDeliverer(t, db.knex, { email: emailSender(t, smtpConfig(port)) });

  t.like(await deliverer.runOnce(), { queued: 1, failed: 1, delivered: 0 });
  const id = ((await db.knex('notification_deliveries').first()) as { id: string }).id;
  const failed = await deliveryRow(db.knex, id);
  t.like(failed, { state: 'pending', attempts: 1 });
  t.regex(failed.last_error!, /^SMTP smtp:\/\/127\.0\.0\.1:\d+ failed: ESOCKET \(connect ECONNREFUSED/);

  const smtp = await startSmtpReceiver(t, { port });
  const total = await drain(deliverer, async () => (await deliveryRow(db.knex, id)).state === 'delivered');
  t.is(total.delivered, 1);
  // a few more runs: nothing is sent again
  await deliverer.runOnce();
  await deliverer.runOnce();
  t.is(smtp.messages.length, 1);
  t.is(parseMail(smtp.messages[0]!.raw).headers.get('subject'), 'Fix available for CVE-2026-1234 in 1 image');
  t.is(parseMail(smtp.messages[0]!.raw).headers.get('message-id'), `<${id}@example.test>`);
});

test.serial('STARTTLS with a login; a wrong password is retried, not lost', async (t) => {
  const smtp = await startSmtpReceiver(t, { starttls: true, auth: { user: 'lookout', password: 's3cret-pass' } });
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'email', target: { recipients: ['sec@example.test'] } });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const tls = { security: 'starttls' as const, insecureTls: true };

  const wrong = makeDeliverer(t, db.knex, { email: emailSender(t, smtpConfig(smtp.port, { ...tls, auth: { user: 'lookout', password: 'wrong' } })) });
  t.like(await wrong.deliverer.runOnce(), { failed: 1 });
  const id = ((await db.knex('notification_deliveries').first()) as { id: string }).id;
  const row = await deliveryRow(db.knex, id);
  t.like(row, { state: 'pending' });
  t.regex(row.last_error!, /authentication failed \(535\)$/);
  t.false(row.last_error!.includes('wrong'), 'the password stays out of the stored error');

  const right = makeDeliverer(t, db.knex, { email: emailSender(t, smtpConfig(smtp.port, { ...tls, auth: { user: 'lookout', password: 's3cret-pass' } })) });
  await drain(right.deliverer, async () => (await deliveryRow(db.knex, id)).state === 'delivered');
  t.is(smtp.messages.length, 1);
  t.like(smtp.messages[0], { secure: true, user: 'lookout' });
});

test.serial('recipients refused with 550: dead at once with the server’s reason', async (t) => {
  const smtp = await startSmtpReceiver(t, { rejectRecipients: true });
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'email', target: { recipients: ['nobody@example.test'] } });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const { deliverer, store } = makeDeliverer(t, db.knex, { email: emailSender(t, smtpConfig(smtp.port)) });

  t.like(await deliverer.runOnce(), { dead: 1 });
  const [dead] = await store.listDead({ limit: 5 });
  t.like(dead, { channel: 'email', attempts: 1 });
  t.regex(dead!.lastError!, /refused the message: 550 Mailbox unavailable/);
  t.is(smtp.messages.length, 0);
});

test.serial('without an SMTP server configured, email deliveries wait with the reason', async (t) => {
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'email', target: { recipients: ['sec@example.test'] } });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const { deliverer } = makeDeliverer(t, db.knex, { email: null });
  t.like(await deliverer.runOnce(), { failed: 1 });
  const row = (await db.knex('notification_deliveries').first()) as { state: string; last_error: string };
  t.like(row, { state: 'pending', last_error: 'email is not configured (no SMTP server)' });
});

import test from 'ava';
import { generateWebhookSecret, signWebhook, verifyWebhook, webhookHeaders, webhookSecretKey } from '../../src/notifier/webhook-signature.ts';

// The example published with the Standard Webhooks specification (and its reference libraries).
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

test('signing reproduces the Standard Webhooks example signature', (t) => {
  t.is(signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body), SPEC.signature);
  t.is(signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, Buffer.from(SPEC.body)), SPEC.signature);
});

test('verify accepts the Standard Webhooks example at its own time', (t) => {
  const headers = { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp), 'webhook-signature': SPEC.signature };
  t.deepEqual(verifyWebhook(SPEC.secret, headers, SPEC.body, { nowSeconds: SPEC.timestamp + 10 }), { ok: true, id: SPEC.id, timestamp: SPEC.timestamp });
  // header names in any case, several signatures (a secret rotation) with one valid
  const mixed = { 'Webhook-Id': SPEC.id, 'WEBHOOK-TIMESTAMP': String(SPEC.timestamp), 'webhook-signature': `v1,bm9wZQ== v2,xyz ${SPEC.signature}` };
  t.true(verifyWebhook(SPEC.secret, mixed, SPEC.body, { nowSeconds: SPEC.timestamp }).ok);
});

test('verify refuses a changed body, id, secret or an old timestamp', (t) => {
  const headers = { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp), 'webhook-signature': SPEC.signature };
  const at = { nowSeconds: SPEC.timestamp };
  t.like(verifyWebhook(SPEC.secret, headers, '{"test": 2432232315}', at), { ok: false, reason: 'no matching v1 signature' });
  t.false(verifyWebhook(SPEC.secret, { ...headers, 'webhook-id': 'msg_other' }, SPEC.body, at).ok);
  t.false(verifyWebhook(generateWebhookSecret(), headers, SPEC.body, at).ok);
  t.like(verifyWebhook(SPEC.secret, headers, SPEC.body, { nowSeconds: SPEC.timestamp + 301 }), { ok: false, reason: 'webhook-timestamp is outside the tolerance' });
  t.true(verifyWebhook(SPEC.secret, headers, SPEC.body, { nowSeconds: SPEC.timestamp + 301, toleranceSeconds: 600 }).ok);
  t.like(verifyWebhook(SPEC.secret, { 'webhook-id': SPEC.id }, SPEC.body, at), { ok: false });
  t.like(verifyWebhook(SPEC.secret, { ...headers, 'webhook-timestamp': '16e8' }, SPEC.body, at), { ok: false, reason: 'webhook-timestamp is not unix seconds' });
  t.like(verifyWebhook('whsec_***', headers, SPEC.body, at), { ok: false, reason: 'webhook secret after whsec_ is not base64' });
});

test('a raw secret (no whsec_ prefix) is used as its UTF-8 bytes', (t) => {
  const raw = 'correct horse battery staple';
  t.deepEqual(webhookSecretKey(raw), Buffer.from(raw, 'utf8'));
  t.deepEqual(webhookSecretKey(`whsec_${Buffer.from(raw).toString('base64')}`), Buffer.from(raw, 'utf8'));
  const headers = webhookHeaders(raw, 'delivery-1', 1_700_000_000, '{"a":1}');
  t.is(headers['webhook-id'], 'delivery-1');
  t.is(headers['webhook-timestamp'], '1700000000');
  t.true(verifyWebhook(raw, { ...headers }, '{"a":1}', { nowSeconds: 1_700_000_000 }).ok);
  // the same key written in the spec's format verifies the same signature
  t.true(verifyWebhook(`whsec_${Buffer.from(raw).toString('base64')}`, { ...headers }, '{"a":1}', { nowSeconds: 1_700_000_000 }).ok);
  t.throws(() => webhookSecretKey(''), { message: /1 to 1024 characters/ });
});

test('generated secrets follow the whsec_<base64> format with 32 random bytes', (t) => {
  const a = generateWebhookSecret();
  t.regex(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
  t.is(webhookSecretKey(a).length, 32);
  t.not(a, generateWebhookSecret());
});

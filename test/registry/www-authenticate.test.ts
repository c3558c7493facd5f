import test from 'ava';
import { findChallenge, parseWwwAuthenticate } from '../../src/registry/www-authenticate.ts';

test('distribution bearer challenge with a quoted scope containing commas', (t) => {
  const challenges = parseWwwAuthenticate(
    'Bearer realm="http://127.0.0.1:5058/token",service="test-registry",scope="repository:demo/app:pull,push"',
  );
  t.deepEqual(challenges, [
    { scheme: 'bearer', params: { realm: 'http://127.0.0.1:5058/token', service: 'test-registry', scope: 'repository:demo/app:pull,push' } },
  ]);
});

test('error parameter and spaces around separators', (t) => {
  const [c] = parseWwwAuthenticate('Bearer  realm = "https://auth.example/token" , service=reg ,error="invalid_token"');
  t.is(c?.scheme, 'bearer');
  t.deepEqual(c?.params, { realm: 'https://auth.example/token', service: 'reg', error: 'invalid_token' });
});

test('several challenges in one header (RFC 7235 example with escapes)', (t) => {
  const challenges = parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"');
  t.deepEqual(challenges, [
    { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
    { scheme: 'basic', params: { realm: 'simple' } },
  ]);
  t.is(findChallenge(challenges, 'Basic')?.params.realm, 'simple');
});

test('several header lines, token68 and bare schemes', (t) => {
  const challenges = parseWwwAuthenticate(['Negotiate abc+/9==', 'Basic, Bearer realm="r"']);
  t.deepEqual(challenges, [
    { scheme: 'negotiate', params: {}, token68: 'abc+/9==' },
    { scheme: 'basic', params: {} },
    { scheme: 'bearer', params: { realm: 'r' } },
  ]);
});

test('scheme and parameter names are case-insensitive; the first duplicate wins', (t) => {
  const [c] = parseWwwAuthenticate('BEARER Realm="a", REALM="b", Service=x');
  t.is(c?.scheme, 'bearer');
  t.deepEqual(c?.params, { realm: 'a', service: 'x' });
});

test('quoted commas, equals signs and backslashes stay inside the value', (t) => {
  const [c] = parseWwwAuthenticate('Bearer realm="https://h/t?a=1,b=2",scope="repository:host:5000/x:pull repository:y:pull",note="a\\\\b"');
  t.is(c?.params.realm, 'https://h/t?a=1,b=2');
  t.is(c?.params.scope, 'repository:host:5000/x:pull repository:y:pull');
  t.is(c?.params.note, 'a\\b');
});

test('malformed input never throws: parsing stops and keeps what was read', (t) => {
  t.deepEqual(parseWwwAuthenticate(''), []);
  t.deepEqual(parseWwwAuthenticate(undefined), []);
  t.deepEqual(parseWwwAuthenticate('"'), []);
  t.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [{ scheme: 'bearer', params: {} }]);
  t.deepEqual(parseWwwAuthenticate('Basic realm="a" junk, Bearer realm="b"'), [{ scheme: 'basic', params: { realm: 'a' } }]);
  // `realm=` alone is a valid token68 by the grammar
  t.deepEqual(parseWwwAuthenticate('Bearer realm='), [{ scheme: 'bearer', params: {}, token68: 'realm=' }]);
});

test('limits: huge headers and many challenges are cut, not parsed whole', (t) => {
  const many = Array.from({ length: 100 }, (_, i) => `S${i} a=1`).join(', ');
  t.is(parseWwwAuthenticate(many).length, 16);
  const long = `Bearer realm="${'x'.repeat(100_000)}"`;
  t.deepEqual(parseWwwAuthenticate(long), [{ scheme: 'bearer', params: {} }]);
});

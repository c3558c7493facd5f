import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { REGISTRY_DEFAULTS, type RegistryConfig } from '../../src/registry/registry-config.ts';
import { RegistryClient } from '../../src/registry/registry-client.ts';
import { RegistryError } from '../../src/registry/registry-error.ts';
import { OPENSSL_BIN } from '../helpers/registry-harness.ts';

const maybe = OPENSSL_BIN !== null ? test : test.skip;
const skipNote = OPENSSL_BIN !== null ? '' : ' (skipped: openssl is not installed)';

/** A https server on 127.0.0.1 with a fresh self-signed certificate; answers like a token registry. */
async function httpsRegistry(t: { teardown(fn: () => Promise<void>): void }): Promise<{ url: string; cert: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-tls-'));
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(
        OPENSSL_BIN!,
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'],
        { cwd: dir, timeout: 30_000 },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    const [key, cert] = await Promise.all([readFile(path.join(dir, 'key.pem'), 'utf8'), readFile(path.join(dir, 'cert.pem'), 'utf8')]);
    const server = createServer({ key, cert }, (req, res) => {
      if (req.url === '/v2/') res.writeHead(200).end('{}');
      // a plain-http realm for a https registry: the client must refuse to send credentials there
      else res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:9/token",service="s"' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function client(url: string, overrides: Partial<RegistryConfig> = {}): RegistryClient {
  return new RegistryClient({ name: 'tls', url, ...REGISTRY_DEFAULTS, retries: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 }, ...overrides });
}

maybe(`TLS: an unknown certificate is refused; a configured CA or insecure mode is accepted${skipNote}`, async (t) => {
  const { url, cert } = await httpsRegistry(t);
  const strict = client(url);
  t.teardown(() => strict.close());
  const err = await t.throwsAsync(strict.ping(), { instanceOf: RegistryError });
  t.is((err as RegistryError).kind, 'unavailable');
  t.regex(err!.message, /failed: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);

  const withCa = client(url, { tls: { ca: cert } });
  t.teardown(() => withCa.close());
  await t.notThrowsAsync(withCa.ping());
  const insecure = client(url, { insecure: true });
  t.teardown(() => insecure.close());
  await t.notThrowsAsync(insecure.ping());
});

maybe(`TLS: a plain-http token realm named by a https registry is refused before any credentials are sent${skipNote}`, async (t) => {
  const { url, cert } = await httpsRegistry(t);
  const c = client(url, { tls: { ca: cert }, username: 'u', password: 'p' });
  t.teardown(() => c.close());
  const err = await t.throwsAsync(c.manifest('demo/app', 'v1'), { instanceOf: RegistryError });
  t.is((err as RegistryError).kind, 'not_allowed');
  t.regex(err!.message, /plain-http token realm http:\/\/127\.0\.0\.1:9\/token refused for a https registry/);
});

import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import anyTest, { type TestFn } from 'ava';
import { REGISTRY_DEFAULTS, type RegistryConfig, type RegistryLimits } from '../../src/registry/registry-config.ts';
import { RegistryClient } from '../../src/registry/registry-client.ts';
import { RegistryError } from '../../src/registry/registry-error.ts';
import { serve } from '../helpers/http.ts';
import { OciLayoutBuilder, type BuiltLayer, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import { freePort, HAVE_REGISTRY, NO_REGISTRY, pushImage, startRegistry, type RunningRegistry } from '../helpers/registry-harness.ts';
import { startFaultProxy, type FaultAction } from './fault-proxy.ts';

interface Context {
  dir: string;
  registry: RunningRegistry;
  app: BuiltManifest;
  big: BuiltLayer;
}

const test = anyTest as TestFn<Context>;
const maybe = HAVE_REGISTRY ? test : test.skip;
const skipNote = HAVE_REGISTRY ? '' : NO_REGISTRY;
const FORWARD: FaultAction = { kind: 'forward' };

function client(url: string, overrides: Partial<RegistryConfig> = {}, limits: Partial<RegistryLimits> = {}): RegistryClient {
  return new RegistryClient(
    { name: 'faulty', url, ...REGISTRY_DEFAULTS, retries: { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 }, ...overrides },
    { limits },
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function kindOf(t: { throwsAsync: (p: Promise<unknown>) => Promise<unknown> }, p: Promise<unknown>): Promise<RegistryError> {
  const err = await t.throwsAsync(p);
  if (!(err instanceof RegistryError)) throw new Error(`expected a RegistryError, got ${String(err)}`);
  return err;
}

if (HAVE_REGISTRY) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-oci-'));
    const layout = await OciLayoutBuilder.create(dir);
    const big = await layout.addLayer([{ path: 'opt/blob.bin', content: randomBytes(300_000) }]);
    const app = await layout.addImage({ layers: [big], platform: { os: 'linux', architecture: 'amd64' } });
    await layout.tag('app', app);
    const registry = await startRegistry();
    await pushImage(dir, 'app', registry, 'demo/app:v1');
    t.context = { dir, registry, app, big };
  });

  test.after.always(async (t) => {
    await t.context.registry?.stop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

maybe(`500s are retried with backoff, then the manifest arrives${skipNote}`, async (t) => {
  const proxy = await startFaultProxy(t, t.context.registry.url, (req, n) => (req.url?.includes('/manifests/') && n < 2 ? { kind: 'respond', status: 500 } : FORWARD));
  const c = client(proxy.url);
  t.teardown(() => c.close());
  const m = await c.manifest('demo/app', 'v1');
  t.is(m.digest, t.context.app.digest);
  t.is(proxy.count(/\/manifests\//), 3);
});

maybe(`429 with Retry-After is honoured, then the request succeeds${skipNote}`, async (t) => {
  const proxy = await startFaultProxy(t, t.context.registry.url, (req, n) =>
    req.url?.includes('/manifests/') && n === 0 ? { kind: 'respond', status: 429, headers: { 'retry-after': '1' }, body: '{"errors":[{"code":"TOOMANYREQUESTS"}]}' } : FORWARD,
  );
  const c = client(proxy.url, { retries: { attempts: 3, baseDelayMs: 20, maxDelayMs: 2000 } });
  t.teardown(() => c.close());
  const started = Date.now();
  await c.manifest('demo/app', 'v1');
  t.true(Date.now() - started >= 950, 'waited for Retry-After');
  t.is(proxy.count(/\/manifests\//), 2);
});

maybe(`persistent 503 ends as unavailable after the configured attempts; a long Retry-After ends at once${skipNote}`, async (t) => {
  const proxy = await startFaultProxy(t, t.context.registry.url, (req) =>
    req.url?.includes('/manifests/') ? { kind: 'respond', status: 503 } : req.url?.includes('/tags/') ? { kind: 'respond', status: 429, headers: { 'retry-after': '3600' } } : FORWARD,
  );
  const c = client(proxy.url);
  t.teardown(() => c.close());
  const err = await kindOf(t, c.manifest('demo/app', 'v1'));
  t.is(err.kind, 'unavailable');
  t.true(err.retryable);
  t.is(err.httpStatus, 503);
  t.regex(err.message, /^registry "faulty": GET http:\/\/127\.0\.0\.1:\d+\/v2\/demo\/app\/manifests\/v1 answered 503 after 3 attempts$/);
  t.is(proxy.count(/\/manifests\//), 3);

  const limited = await t.throwsAsync(async () => {
    for await (const _ of c.tags('demo/app')) void _;
  });
  t.is((limited as RegistryError).kind, 'rate_limited');
  t.is((limited as RegistryError).retryAfterMs, 3_600_000);
  t.is(proxy.count(/\/tags\//), 1);
});

maybe(`blob redirect to a second host: Authorization not forwarded, bytes verified, resumed with Range after a cut${skipNote}`, async (t) => {
  const seen: Array<{ authorization: string | undefined; range: string | undefined; path: string }> = [];
  let storageDir = '';
  let cut = false; // armed after the push (skopeo's HEAD requests are redirected too)
  const blobHost = await serve(t, (req, res) => {
    seen.push({ authorization: req.headers.authorization, range: req.headers.range, path: req.url ?? '' });
    const file = path.join(storageDir, path.normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!file.startsWith(storageDir)) {
      res.writeHead(404).end();
      return;
    }
    const size = statSync(file).size;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, { 'content-length': size - start, ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}) });
    const stream = createReadStream(file, { start });
    if (cut && req.method === 'GET') {
      cut = false;
      // send 50 000 bytes, then drop the connection once they are out
      let sent = 0;
      stream.on('data', (chunk) => {
        const part = (chunk as Buffer).subarray(0, 50_000 - sent);
        sent += part.length;
        if (sent < 50_000) {
          res.write(part);
          return;
        }
        stream.destroy();
        res.write(part, () => res.socket?.destroy());
      });
    } else stream.pipe(res);
  });
  const registry = await startRegistry({ redirectBaseUrl: blobHost }, t);
  storageDir = registry.storageDir;
  await pushImage(t.context.dir, 'app', registry, 'demo/app:v1');
  seen.length = 0;
  cut = true;
  const proxy = await startFaultProxy(t, registry.url);
  // the registry runs without auth, so it ignores this token; what matters is where the client sends it
  const c = client(proxy.url, { bearerToken: 'static-token-S3cr3t' });
  t.teardown(() => c.close());
  const { big } = t.context;
  const bytes = await readAll(await c.blob('demo/app', big.digest, { size: big.size }));
  t.true(bytes.equals(big.bytes));

  // bytes written before the cut may not all arrive: the resume offset is what the client received
  const blobRequests = proxy.requests.filter((r) => r.path.includes('/blobs/'));
  t.is(blobRequests.length, 2);
  t.true(blobRequests.every((r) => r.authorization), 'the registry got the credentials');
  t.is(blobRequests[0]!.range, null);
  const offset = Number(/^bytes=(\d+)-$/.exec(blobRequests[1]!.range ?? '')?.[1]);
  t.true(offset > 0 && offset <= 50_000);
  t.is(seen.length, 2);
  t.true(seen.every((s) => s.authorization === undefined), 'Authorization reached the blob host');
  t.deepEqual(seen.map((s) => s.range), [undefined, `bytes=${offset}-`]);
  t.regex(seen[0]!.path, /^\/docker\/registry\/v2\/blobs\/sha256\//);
});

maybe(`a manifest redirect to another host is refused${skipNote}`, async (t) => {
  const proxy = await startFaultProxy(t, t.context.registry.url, (req) =>
    req.url?.includes('/manifests/') ? { kind: 'respond', status: 307, headers: { location: 'http://127.0.0.1:9/elsewhere' } } : FORWARD,
  );
  const c = client(proxy.url);
  t.teardown(() => c.close());
  const err = await kindOf(t, c.manifest('demo/app', 'v1'));
  t.is(err.kind, 'not_allowed');
  t.regex(err.message, /redirect to another host refused/);
});

maybe(`digest mismatch: corrupted blob and manifests fail with digest_mismatch and are not retried${skipNote}`, async (t) => {
  const proxy = await startFaultProxy(t, t.context.registry.url, (req) => (req.method === 'GET' && /\/(blobs|manifests)\//.test(req.url ?? '') ? { kind: 'corrupt' } : FORWARD));
  const c = client(proxy.url);
  t.teardown(() => c.close());
  const { big, app } = t.context;

  const stream = await c.blob('demo/app', big.digest, { size: big.size });
  const err = await kindOf(t, readAll(stream));
  t.is(err.kind, 'digest_mismatch');
  t.false(err.retryable);
  t.regex(err.message, new RegExp(`blob demo/app@${big.digest} hashes to sha256:`));
  t.is(proxy.count(/\/blobs\//), 1);

  const byDigest = await kindOf(t, c.manifest('demo/app', app.digest));
  t.is(byDigest.kind, 'digest_mismatch');
  const byTag = await kindOf(t, c.manifest('demo/app', 'v1'));
  t.is(byTag.kind, 'digest_mismatch');
  t.regex(byTag.message, new RegExp(`expected ${app.digest}`));
  t.is(proxy.count(/\/manifests\//), 2);
});

maybe(`a server that never answers: response-headers timeout, retried, then a timeout error${skipNote}`, async (t) => {
  const proxy = await startFaultProxy(t, t.context.registry.url, () => ({ kind: 'hang' }));
  const c = client(proxy.url, { timeouts: { connectMs: 1000, headersMs: 300, bodyIdleMs: 300 }, retries: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } });
  t.teardown(() => c.close());
  const started = Date.now();
  const err = await kindOf(t, c.manifest('demo/app', 'v1'));
  t.is(err.kind, 'timeout');
  t.true(err.retryable);
  t.regex(err.message, /response headers timeout/);
  t.true(Date.now() - started >= 550);
  t.is(proxy.requests.length, 2); // GET /v2/ twice: the challenge discovery times out
});

maybe(`a body that stalls: body-idle timeout, one Range resume, then a timeout error${skipNote}`, async (t) => {
  const proxy = await startFaultProxy(t, t.context.registry.url, (req) => (req.url?.includes('/blobs/') ? { kind: 'stall-body', afterBytes: 20_000 } : FORWARD));
  const c = client(proxy.url, { timeouts: { connectMs: 1000, headersMs: 1000, bodyIdleMs: 300 } }, { maxResumes: 1 });
  t.teardown(() => c.close());
  const { big } = t.context;
  const stream = await c.blob('demo/app', big.digest, { size: big.size });
  const err = await kindOf(t, readAll(stream));
  t.is(err.kind, 'timeout');
  t.regex(err.message, /body idle timeout/);
  t.deepEqual(proxy.requests.filter((r) => r.path.includes('/blobs/')).map((r) => r.range), [null, 'bytes=20000-']);
});

maybe(`an interrupted blob download is resumed with Range and verified as a whole${skipNote}`, async (t) => {
  const proxy = await startFaultProxy(t, t.context.registry.url, (req, n) => (req.url?.includes('/blobs/') && n === 0 ? { kind: 'truncate', afterBytes: 70_000 } : FORWARD));
  const c = client(proxy.url);
  t.teardown(() => c.close());
  const { big } = t.context;
  const bytes = await readAll(await c.blob('demo/app', big.digest, { size: big.size }));
  t.true(bytes.equals(big.bytes));
  const ranges = proxy.requests.filter((r) => r.path.includes('/blobs/')).map((r) => r.range);
  t.is(ranges.length, 2);
  t.is(ranges[0], null);
  // bytes written before the cut may not all arrive: the resume offset is what the client received
  const offset = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
  t.true(offset > 0 && offset <= 70_000, `resumed at ${offset}`);
});

maybe(`registry down: connection refused ends as unavailable (retryable)${skipNote}`, async (t) => {
  const port = await freePort();
  const c = client(`http://127.0.0.1:${port}`, { retries: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } });
  t.teardown(() => c.close());
  const err = await kindOf(t, c.manifest('demo/app', 'v1'));
  t.is(err.kind, 'unavailable');
  t.true(err.retryable);
  t.regex(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/v2\/ failed: ECONNREFUSED/);
});

maybe(`the per-registry concurrency limit holds a slot while a blob streams${skipNote}`, async (t) => {
  const c = client(t.context.registry.url, { concurrency: 1 });
  t.teardown(() => c.close());
  const { big } = t.context;
  const stream = await c.blob('demo/app', big.digest, { size: big.size });
  let done = false;
  const pending = c.manifest('demo/app', 'v1').then((m) => {
    done = true;
    return m;
  });
  await new Promise((r) => setTimeout(r, 200));
  t.false(done, 'the manifest request waited for the slot');
  await readAll(stream);
  t.is((await pending).digest, t.context.app.digest);
});

maybe(`Basic challenge: credentials sent after discovery; wrong or missing ones end as unauthorized after one try${skipNote}`, async (t) => {
  const good = `Basic ${Buffer.from('reader:reader-pw').toString('base64')}`;
  const proxy = await startFaultProxy(t, t.context.registry.url, (req) =>
    req.headers.authorization === good ? FORWARD : { kind: 'respond', status: 401, headers: { 'www-authenticate': 'Basic realm="lookout-test"' } },
  );
  const ok = client(proxy.url, { username: 'reader', password: 'reader-pw' });
  t.teardown(() => ok.close());
  t.is((await ok.manifest('demo/app', 'v1')).digest, t.context.app.digest);
  t.deepEqual(proxy.requests.map((r) => [r.path, r.authorization]), [
    ['/v2/', false],
    ['/v2/demo/app/manifests/v1', true],
  ]);

  for (const creds of [{ username: 'reader', password: 'wrong' }, {}]) {
    proxy.requests.length = 0;
    const c = client(proxy.url, creds);
    t.teardown(() => c.close());
    const err = await kindOf(t, c.manifest('demo/app', 'v1'));
    t.is(err.kind, 'unauthorized');
    t.is(proxy.requests.length, 2);
  }
});

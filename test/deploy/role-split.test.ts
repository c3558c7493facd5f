import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase } from '../helpers/database.ts';
import { OciLayoutBuilder } from '../helpers/oci-image-builder.ts';
import { freePort, HAVE_REGISTRY, NO_REGISTRY, pushImage, startRegistry } from '../helpers/registry-harness.ts';
import { startServe, type ServeProcess } from '../helpers/serve-process.ts';

const maybe = HAVE_REGISTRY ? test.serial : test.serial.skip;
const note = HAVE_REGISTRY ? '' : NO_REGISTRY;
const SECRET = 'role-split-webhook-secret';

const dpkgStatus = (name: string, version: string, source?: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n${source ? `Source: ${source}\n` : ''}Maintainer: Debian Maintainers <debian-devel@lists.debian.org>\nDescription: ${name}\n`;

/** The part of `GET /api/v1/images/{digest}` this test reads. */
interface ImageDocument {
  status: string;
  statusReason: string | null;
  report: { packages: Array<{ ecosystem: string; name: string; version: string; introducedIn: string | null }> } | null;
}

/** SIGTERM, then SIGKILL if it has not exited within 10 s; resolves with the exit code. */
async function stop(process: ServeProcess): Promise<number | null> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return process.child.exitCode;
  process.child.kill('SIGTERM');
  const timer = setTimeout(() => process.child.kill('SIGKILL'), 10_000);
  const code = await process.exited;
  clearTimeout(timer);
  return code;
}

/** Waits until `process` has logged a line with `msg` (its stdout is read asynchronously). */
async function logged(process: ServeProcess, msg: string, timeoutMs = 10_000): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = process.logs.find((l) => l.msg === msg);
    if (line || Date.now() > deadline) return line;
    await sleep(100);
  }
}

maybe(`roles split across two serve processes on one database: the API process takes the push, the worker process indexes it${note}`, async (t) => {
  t.timeout(150_000);
  // An empty database: the API process migrates it, the worker process must not.
  const db = await createTestDatabase('role_split', { empty: true });
  t.teardown(() => db.drop());

  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-role-split-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const layout = await OciLayoutBuilder.create(dir);
  const layer = await layout.addLayer([
    { path: 'etc/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n' },
    { path: 'var/lib/dpkg/status', content: [dpkgStatus('libc6', '2.36-9+deb12u4', 'glibc'), dpkgStatus('zlib1g', '1:1.2.13.dfsg-1', 'zlib')].join('\n') },
  ]);
  const image = await layout.addImage({ layers: [layer], platform: { os: 'linux', architecture: 'amd64' } });
  await layout.tag('v1', image);

  // The registry notifies the API process's port, chosen before either starts.
  const apiPort = await freePort();
  const registry = await startRegistry({ notifications: { url: `http://127.0.0.1:${apiPort}/webhooks/distribution/local`, secret: SECRET } }, t);

  const common = {
    DATABASE_URL: db.url,
    // The registries as a list in the environment, webhook secret included.
    LOOKOUT_REGISTRIES: JSON.stringify([{ name: 'local', url: registry.url, webhookSecret: SECRET }]),
    LOOKOUT_INTAKE__DEBOUNCE_SECONDS: '1',
    LOOKOUT_JOBS__POLLING_INTERVAL_SECONDS: '0.5',
    LOOKOUT_SERVER__SHUTDOWN_TIMEOUT_SECONDS: '5',
  };
  const api = await startServe({ ...common, PORT: String(apiPort) }, ['--roles', 'api']);
  t.teardown(async () => void (await stop(api)));
  t.is(api.port, apiPort);
  t.truthy(api.logs.find((l) => l.msg === 'database migrated'), 'the API process migrated the empty database');
  t.deepEqual(api.logs.find((l) => l.msg === 'server listening')?.roles, ['api']);

  const worker = await startServe({ ...common, LOOKOUT_ROLES: 'worker', LOOKOUT_DATABASE__MIGRATE_ON_START: 'false' });
  t.teardown(async () => void (await stop(worker)));
  t.not(worker.port, api.port);
  t.is(worker.logs.find((l) => l.msg === 'database migrated'), undefined, 'the worker process did not migrate');
  t.deepEqual(worker.logs.find((l) => l.msg === 'server listening')?.roles, ['worker']);

  await pushImage(dir, 'v1', registry, 'demo/app:v1');

  // Poll the API process, as a client would.
  const statusUrl = `http://127.0.0.1:${api.port}/api/v1/images/${image.digest}`;
  const deadline = Date.now() + 90_000;
  let document = null as ImageDocument | null;
  while (Date.now() < deadline) {
    const res = await fetch(statusUrl);
    if (res.status === 200) {
      document = (await res.json()) as ImageDocument;
      if (document.status === 'done' || document.status === 'failed') break;
    } else {
      t.is(res.status, 404, `unknown until the push is recorded: ${await res.text()}`);
    }
    await sleep(250);
  }
  t.is(document?.status, 'done', `status ${document?.status}: ${document?.statusReason ?? ''}; worker stderr: ${worker.stderr().slice(-500)}`);
  t.deepEqual(
    document?.report?.packages.map((p) => `${p.ecosystem}:${p.name}@${p.version} from ${p.introducedIn === layer.digest ? 'the layer' : p.introducedIn}`).sort(),
    ['dpkg:libc6@2.36-9+deb12u4 from the layer', 'dpkg:zlib1g@1:1.2.13.dfsg-1 from the layer'],
  );
  const tag = await fetch(`http://127.0.0.1:${api.port}/api/v1/repositories/demo/app/tags/v1`);
  t.is(tag.status, 200);
  const tagDocument = (await tag.json()) as { digest: string; status: { status: string } };
  t.is(tagDocument.digest, image.digest);
  t.is(tagDocument.status.status, 'done');

  // Who did what, from each process's own log.
  const done = await logged(worker, 'indexer image done');
  t.truthy(done, 'the worker process indexed the image');
  t.is(done?.packages, 2);
  t.is(api.logs.filter((l) => l.msg === 'indexer image done').length, 0, 'the API process ran no index job');
  t.true(
    api.logs.some((l) => l.msg === 'http request' && l.method === 'POST' && l.path === '/webhooks/distribution/local' && l.status === 202),
    'the API process received the registry webhook',
  );
  t.false(worker.logs.some((l) => l.msg === 'http request' && typeof l.path === 'string' && l.path.startsWith('/webhooks/')), 'the worker process served no webhook');

  // Both stop gracefully on SIGTERM.
  t.is(await stop(worker), 0);
  t.is(await stop(api), 0);
});

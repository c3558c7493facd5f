import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLookout } from '../../src/app/composition-root.ts';
import { REGISTRY_EVENT_QUEUE } from '../../src/intake/intake-service.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { OciLayoutBuilder } from '../helpers/oci-image-builder.ts';
import { freePort, HAVE_REGISTRY, NO_REGISTRY, pushImage, startRegistry } from '../helpers/registry-harness.ts';
import { testConfig } from '../helpers/test-config.ts';

const maybe = HAVE_REGISTRY ? test : test.skip;
const note = HAVE_REGISTRY ? '' : NO_REGISTRY;

/**
 * A TCP forwarder on a fixed loopback port that can be switched off (the port refuses
 * connections, as a registry that is down does) and on again.
 */
function tcpForwarder(port: number, target: number) {
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  return {
    async up() {
      server = createServer((client) => {
        const upstream = createConnection({ host: '127.0.0.1', port: target });
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
    async down() {
      const closing = server;
      server = null;
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
}

maybe(`registry down when the push is announced: the job is retried and succeeds once the registry is back${note}`, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-down-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const layout = await OciLayoutBuilder.create(dir);
  const image = await layout.addImage({
    layers: [await layout.addLayer([{ path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\n' }, { path: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n' }])],
    platform: { os: 'linux', architecture: 'amd64' },
  });
  await layout.tag('v1', image);

  const port = await freePort();
  const registry = await startRegistry({ notifications: { url: `http://127.0.0.1:${port}/webhooks/distribution/local`, secret: 'down-test-secret' } }, t);
  // Lookout reaches the registry only through the forwarder, which starts switched off.
  const forwarderPort = await freePort();
  const forwarder = tcpForwarder(forwarderPort, registry.port);
  t.teardown(() => forwarder.down());

  const db = await createTestDatabase('registry_down');
  t.teardown(() => db.drop());
  const config = testConfig(db.url, {
    server: { port },
    registries: [{ name: 'local', url: `http://127.0.0.1:${forwarderPort}`, webhookSecret: 'down-test-secret', timeouts: { connectSeconds: 1 } }],
    intake: { debounceSeconds: 0 },
    jobs: { retryLimit: 10, retryDelaySeconds: 1, retryDelayMaxSeconds: 2 },
  });
  const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
  await lookout.start();
  t.teardown(() => lookout.stop());

  await pushImage(dir, 'v1', registry, 'team/app:v1');
  // The announced push fails at least once against the closed port.
  const failedOnce = async () => {
    const { rows } = await db.knex.raw<{ rows: { n: number }[] }>(`select coalesce(max(retry_count), 0)::int as n from pgboss.job where name = ?`, [REGISTRY_EVENT_QUEUE]);
    return rows[0]!.n >= 1;
  };
  for (let i = 0; i < 150 && !(await failedOnce()); i++) await sleep(200);
  t.true(await failedOnce(), 'the registry-event job was retried');
  t.is(await lookout.images.manifestByDigest(image.digest), null, 'nothing recorded while the registry is down');

  await forwarder.up();
  let status: string | undefined;
  for (let i = 0; i < 300; i++) {
    status = (await lookout.images.manifestByDigest(image.digest))?.status;
    if (status === 'done' || status === 'failed') break;
    await sleep(200);
  }
  t.is(status, 'done');
  const { rows } = await db.knex.raw<{ rows: { state: string; retry_count: number }[] }>(`select state, retry_count from pgboss.job where name = ?`, [REGISTRY_EVENT_QUEUE]);
  t.deepEqual(rows.map((r) => r.state), ['completed'], 'one job, completed after its retries; nothing dead-lettered');
  t.true(rows[0]!.retry_count >= 1);
});

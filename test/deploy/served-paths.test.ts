import test from 'ava';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import type { Config } from '../../src/config/config-schema.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { useDatabase } from '../helpers/database.ts';
import { DEPLOY_DIR, probeTargets, type Doc } from './deploy-files.ts';

const db = useDatabase(test, 'deploy_paths');

/** The configuration a deployed process would load from `configFile` with `roles`, on the test database and a free port. */
function deployedConfig(configFile: string, roles: string, databaseUrl: string): Config {
  return loadConfig({
    env: { LOOKOUT_CONFIG: configFile, DATABASE_URL: databaseUrl, LOOKOUT_ROLES: roles, LOOKOUT_DATABASE__MIGRATE_ON_START: 'false' },
    // Listen on loopback at a free port, quietly; no feed is ever fetched from a test.
    overrides: { server: { host: '127.0.0.1', port: 0, shutdownTimeoutSeconds: 5 }, log: { level: 'silent' }, feeds: { enabled: false } },
  });
}

/** Builds and starts a Lookout (the database is migrated, as the migration Job leaves it); stopped at teardown. */
async function start(t: { teardown(fn: () => Promise<void>): void }, config: Config): Promise<{ lookout: Lookout; base: string }> {
  const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
  t.teardown(() => lookout.stop());
  const address = await lookout.start();
  return { lookout, base: `http://127.0.0.1:${address.port}` };
}

test.serial('every path the deployment files probe or scrape answers 200 on a Lookout with those roles and settings', async (t) => {
  const { url } = await db();
  const targets = probeTargets();
  t.true(targets.length >= 5, 'compose api and worker, Kubernetes api, worker and updater');
  t.log(targets.map((target) => `${target.where} (${target.roles}): ${target.paths.join(' ')}`).join('\n'));
  const groups = new Map<string, typeof targets>();
  for (const target of targets) {
    t.not(target.roles, '', `${target.where} names its roles`);
    t.true(target.paths.length > 0, `${target.where} probes something`);
    const key = `${target.configFile}\n${target.roles}`;
    groups.set(key, [...(groups.get(key) ?? []), target]);
  }
  for (const group of groups.values()) {
    const { lookout, base } = await start(t, deployedConfig(group[0]!.configFile, group[0]!.roles, url));
    for (const target of group) {
      for (const p of target.paths) {
        const res = await fetch(base + p);
        const body = await res.text();
        t.is(res.status, 200, `${target.where} (${target.roles}): GET ${p} → ${res.status} ${body.slice(0, 200)}`);
      }
    }
    await lookout.stop();
  }
});

test.serial("the registry's notification endpoint is a route of the API process, and its header carries the accepted secret", async (t) => {
  const { url } = await db();
  const registryConfig = parse(readFileSync(path.join(DEPLOY_DIR, 'registry', 'config.yml'), 'utf8')) as Doc;
  const endpoint = (registryConfig.notifications.endpoints as Doc[])[0]!;
  const { base } = await start(t, deployedConfig(path.join(DEPLOY_DIR, 'lookout.yaml'), 'api', url));
  const target = new URL(endpoint.url);
  const digest = `sha256:${'ab'.repeat(32)}`;
  // A manifest push as Distribution 2.8 sends it (one event per envelope, includereferences on).
  const envelope = {
    events: [
      {
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        action: 'push',
        target: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 345,
          digest,
          length: 345,
          repository: 'demo/app',
          url: `http://registry:5000/v2/demo/app/manifests/${digest}`,
          tag: 'v1',
          references: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 711, digest: `sha256:${'cd'.repeat(32)}` }],
        },
        request: { id: randomUUID(), addr: '172.18.0.5:34618', host: 'localhost:5000', method: 'PUT', useragent: 'docker/27.0' },
        actor: {},
        source: { addr: 'registry:5000', instanceID: randomUUID() },
      },
    ],
  };
  const post = (authorization: string | undefined) =>
    fetch(base + target.pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(envelope),
    });
  const [header] = endpoint.headers.Authorization as string[];
  const accepted = await post(header);
  t.is(accepted.status, 202, await accepted.clone().text());
  t.deepEqual(await accepted.json(), { accepted: 1, duplicates: 0, ignored: 0 });
  const again = await post(header);
  t.deepEqual(await again.json(), { accepted: 0, duplicates: 1, ignored: 0 }, 'a redelivery is recognised');
  t.is((await post('Bearer some-other-secret-value')).status, 401);
  t.is((await post(undefined)).status, 401);
});

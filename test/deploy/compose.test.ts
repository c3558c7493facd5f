import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.ts';
import { ROLES } from '../../src/config/config-schema.ts';
import { ROOT } from '../helpers/cli.ts';
import { composeServiceConfig, DEPLOY_DIR, hostPathOf, lookoutServices, loadCompose, parsePort, parseVolume, serviceEnv, type Doc } from './deploy-files.ts';

const compose = loadCompose();
const services = compose.services as Record<string, Doc>;
const registryConfig = parse(readFileSync(path.join(DEPLOY_DIR, 'registry', 'config.yml'), 'utf8')) as Doc;
/** Lookout services that run `serve` (the image's default command). */
const servers = lookoutServices(compose).filter((s) => s.spec.command === undefined || s.spec.command[0] === 'serve');

/** The service whose image starts with `image` (`registry:`, `postgres:`). */
function serviceByImage(image: string): [string, Doc] {
  const found = Object.entries(services).find(([, s]) => typeof s.image === 'string' && s.image.startsWith(image));
  if (!found) throw new Error(`no service runs ${image}`);
  return found;
}

/** `host:port` → its port number (`:5000` → 5000). */
function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

test('compose.yaml: the Lookout services are built from the repository Dockerfile and share one image', (t) => {
  const lookout = lookoutServices(compose);
  t.true(lookout.length >= 3, 'migrate, api and worker services');
  const images = new Set(lookout.map((s) => s.spec.image));
  t.is(images.size, 1, 'one image for every Lookout service');
  for (const { name, spec } of lookout) {
    t.truthy(spec.build, `${name} builds the image`);
    const context = path.resolve(DEPLOY_DIR, spec.build.context);
    t.is(context, path.resolve(ROOT), `${name}: the build context is the repository`);
    t.true(existsSync(path.join(context, spec.build.dockerfile ?? 'Dockerfile')), `${name}: its Dockerfile exists`);
  }
});

test('compose.yaml: every Lookout service has valid settings (LOOKOUT_* keys are config keys, lookout.yaml mounted and valid)', (t) => {
  const roles = new Set<string>();
  for (const { name, spec } of lookoutServices(compose)) {
    const env = serviceEnv(spec);
    for (const key of Object.keys(env)) t.true(key.startsWith('LOOKOUT_') || key === 'DATABASE_URL' || key === 'PORT', `${name}: ${key} is a variable Lookout reads`);
    t.truthy(env.LOOKOUT_CONFIG, `${name} reads the mounted lookout.yaml`);
    t.is(hostPathOf(spec, env.LOOKOUT_CONFIG!), path.join(DEPLOY_DIR, 'lookout.yaml'));
    // loadConfig lists unknown keys (from LOOKOUT_* or the file) among its problems: this throws then.
    const config = composeServiceConfig(spec);
    t.not(config.database.url, '', `${name}: a PostgreSQL server, not the embedded database`);
    t.false(config.database.migrateOnStart, `${name}: only the migrate service migrates`);
    if (servers.some((s) => s.name === name)) for (const role of config.roles) roles.add(role);
  }
  t.deepEqual([...roles].sort(), [...ROLES].sort(), 'the services run every role between them');
  const migrate = lookoutServices(compose).filter((s) => s.spec.command?.[0] === 'migrate');
  t.is(migrate.length, 1, 'one service runs `lookout migrate`');
  t.is(migrate[0]!.spec.restart, 'no', 'and exits for good');
});

test('compose.yaml: Lookout uses the postgres service, which has a pg_isready health check and a named volume', (t) => {
  const [pgName, pg] = serviceByImage('postgres:');
  const pgEnv = serviceEnv(pg);
  for (const { name, spec } of lookoutServices(compose)) {
    const url = new URL(composeServiceConfig(spec).database.url);
    t.is(url.hostname, pgName, `${name}: the database host is the postgres service`);
    t.is(url.port || '5432', '5432');
    t.is(decodeURIComponent(url.username), pgEnv.POSTGRES_USER ?? '(unset)');
    t.is(decodeURIComponent(url.password), pgEnv.POSTGRES_PASSWORD ?? '(unset)', `${name}: the same password (and the same default)`);
    t.is(url.pathname, `/${pgEnv.POSTGRES_DB}`);
    t.is(spec.depends_on?.[pgName]?.condition, 'service_healthy', `${name} starts once PostgreSQL answers`);
  }
  t.is(pg.healthcheck.test[0], 'CMD');
  t.is(pg.healthcheck.test[1], 'pg_isready');
  t.true(pg.healthcheck.test.includes(pgEnv.POSTGRES_USER!) && pg.healthcheck.test.includes(pgEnv.POSTGRES_DB!), 'for the database Lookout uses');
  const dataVolume = (pg.volumes as string[]).map(parseVolume).find((v) => v.target === '/var/lib/postgresql/data');
  t.truthy(dataVolume);
  t.false(dataVolume!.bind, 'a named volume');
  t.is(pg.ports, undefined, 'the database is not published');
});

test('compose.yaml: published ports are bound to 127.0.0.1 and are ports the services listen on', (t) => {
  const published: Record<string, number[]> = {};
  for (const [name, spec] of Object.entries(services)) {
    for (const port of (spec.ports ?? []) as string[]) {
      t.is(typeof port, 'string', `${name}: short port syntax`);
      const p = parsePort(port);
      t.is(p.hostIp, '127.0.0.1', `${name}: ${port} is bound to loopback only`);
      (published[name] ??= []).push(p.containerPort);
    }
  }
  // Lookout: the API service publishes the port its configuration listens on; workers publish nothing.
  for (const { name, spec } of servers) {
    const config = composeServiceConfig(spec);
    if (config.roles.includes('api')) t.deepEqual(published[name], [config.server.port], `${name} publishes its listening port`);
    else t.is(published[name], undefined, `${name} is not published`);
  }
  const [registryName] = serviceByImage('registry:');
  t.deepEqual(published[registryName], [portOf(registryConfig.http.addr)], 'the registry publishes its http.addr port');
  const [mailName, mail] = serviceByImage('axllent/mailpit');
  // Mailpit's web inbox listens on 8025 unless MP_UI_BIND_ADDR says otherwise.
  t.is(serviceEnv(mail).MP_UI_BIND_ADDR, undefined);
  t.deepEqual(published[mailName], [8025], 'the inbox is published, SMTP is not');
  t.deepEqual(Object.keys(published).sort(), [registryName, mailName, ...servers.filter((s) => published[s.name]).map((s) => s.name)].sort());
});

test('compose.yaml: health checks (/healthz for Lookout) and depends_on conditions hold together', (t) => {
  for (const { name, spec } of servers) {
    const config = composeServiceConfig(spec);
    const command = (spec.healthcheck.test as string[]).join(' ');
    const url = /https?:\/\/127\.0\.0\.1:(\d+)(\/[A-Za-z0-9/_-]*)/.exec(command);
    t.truthy(url, `${name}: the health check calls Lookout over HTTP`);
    t.is(Number(url![1]), config.server.port, `${name}: on the port it listens on`);
    t.is(url![2], '/healthz', `${name}: at /healthz`);
  }
  for (const [name, spec] of Object.entries(services)) {
    for (const [dependency, { condition }] of Object.entries((spec.depends_on ?? {}) as Record<string, { condition: string }>)) {
      const target = services[dependency];
      t.truthy(target, `${name} depends on ${dependency}, which exists`);
      if (condition === 'service_healthy') {
        t.truthy(target!.healthcheck?.test, `${name} waits for ${dependency} to be healthy: it has a health check`);
        t.not(target!.healthcheck?.disable, true);
      } else {
        t.is(condition, 'service_completed_successfully', `${name} → ${dependency}: ${condition}`);
        t.is(target!.restart, 'no', `${dependency} runs once`);
      }
    }
  }
});

test('compose.yaml: named volumes are declared and bind-mounted files exist', (t) => {
  const declared = new Set(Object.keys(compose.volumes ?? {}));
  const used = new Set<string>();
  for (const [name, spec] of Object.entries(services)) {
    for (const volume of (spec.volumes ?? []) as string[]) {
      const { source, bind } = parseVolume(volume);
      if (bind) t.true(existsSync(path.resolve(DEPLOY_DIR, source)), `${name}: ${source} exists`);
      else {
        t.true(declared.has(source), `${name}: volume ${source} is declared`);
        used.add(source);
      }
    }
  }
  t.deepEqual([...declared].sort(), [...used].sort(), 'every declared volume is used');
});

test('registry/config.yml notifies the API service at its webhook route with the secret of lookout.yaml', (t) => {
  const lookoutFile = loadConfig({ env: { LOOKOUT_CONFIG: path.join(DEPLOY_DIR, 'lookout.yaml'), DATABASE_URL: 'postgres://lookout@postgres/lookout' } });
  const endpoints = registryConfig.notifications.endpoints as Doc[];
  t.is(endpoints.length, 1);
  const endpoint = endpoints[0]!;
  const url = new URL(endpoint.url);
  const api = servers.find((s) => s.name === url.hostname);
  t.truthy(api, 'the endpoint host is a Lookout service');
  const apiConfig = composeServiceConfig(api!.spec);
  t.true(apiConfig.roles.includes('api'), 'which serves webhooks');
  t.is(Number(url.port || 80), apiConfig.server.port, 'on its port');
  const route = /^\/webhooks\/distribution\/([^/]+)$/.exec(url.pathname);
  t.truthy(route, 'the path is the Distribution webhook route');
  const registry = lookoutFile.registries.find((r) => r.name === route![1]);
  t.truthy(registry, 'for a registry named in lookout.yaml');
  t.deepEqual(endpoint.headers.Authorization, [`Bearer ${registry!.webhookSecret}`], 'a YAML list holding the same secret');
  t.is(registry!.webhookHeader, 'authorization');
  // Registry 2.8 ignores `ignore.actions` unless `ignore.mediatypes` is set too.
  t.true((endpoint.ignore?.mediatypes ?? []).length > 0);
  t.true(registryConfig.notifications.events.includereferences);

  // And Lookout pulls from the registry service, on the port it listens on.
  const [registryName] = serviceByImage('registry:');
  const pullUrl = new URL(registry!.url);
  t.is(pullUrl.hostname, registryName);
  t.is(Number(pullUrl.port || 80), portOf(registryConfig.http.addr));
  t.is(registryConfig.storage.filesystem.rootdirectory, '/var/lib/registry');
  t.true(
    (serviceByImage('registry:')[1].volumes as string[]).some((v) => parseVolume(v).target === '/etc/docker/registry/config.yml' && path.resolve(DEPLOY_DIR, parseVolume(v).source) === path.join(DEPLOY_DIR, 'registry', 'config.yml')),
    'the registry reads this file',
  );
});

test('lookout.yaml sends email through the mailpit service and subscribes to alerts', (t) => {
  const config = loadConfig({ env: { LOOKOUT_CONFIG: path.join(DEPLOY_DIR, 'lookout.yaml'), DATABASE_URL: 'postgres://lookout@postgres/lookout' } });
  const [mailName] = serviceByImage('axllent/mailpit');
  t.is(config.notifier.smtp?.host, mailName);
  t.is(config.notifier.smtp?.port, 1025, "mailpit's SMTP port");
  t.is(config.notifier.smtp?.security, 'none');
  t.true(config.subscriptions.some((s) => s.channel.type === 'email'));
  const worker = servers.find((s) => composeServiceConfig(s.spec).roles.includes('notifier'));
  t.is(worker?.spec.depends_on?.[mailName]?.condition, 'service_healthy', 'the notifier starts once the SMTP server is up');
  const api = servers.find((s) => composeServiceConfig(s.spec).roles.includes('api'))!;
  const published = parsePort((api.spec.ports as string[])[0]!);
  t.is(new URL(config.notifier.publicBaseUrl).port, String(published.hostPort), "alert links point at the API's published port");
});

test('Dockerfile: EXPOSE and HEALTHCHECK agree with the default port and /healthz', (t) => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const defaults = loadConfig({ env: {} });
  const runStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  t.deepEqual([...runStage.matchAll(/^EXPOSE\s+(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/)), [String(defaults.server.port)]);
  t.regex(runStage, new RegExp(`^ENV\\s.*\\bPORT=${defaults.server.port}\\b`, 'm'), 'PORT in the image is the exposed port');
  const healthcheck = /^HEALTHCHECK\s.*$/m.exec(runStage)?.[0] ?? '';
  t.regex(healthcheck, /fetch\('http:\/\/127\.0\.0\.1:' \+ \(process\.env\.PORT \|\| (\d+)\) \+ '\/healthz'\)/);
  t.true(healthcheck.includes(`|| ${defaults.server.port})`), 'falls back to the default port');
  t.regex(runStage, /^ENTRYPOINT \["node", "src\/cli\/main\.ts"\]$/m, 'compose and Kubernetes pass `serve`/`migrate` as the command');
});

import test, { type ExecutionContext } from 'ava';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROLES } from '../../src/config/config-schema.ts';
import { ROOT } from '../helpers/cli.ts';
import { containerConfig, gatherKustomize, KUBECTL, KUBERNETES_DIR, readYamlDocuments, renderKustomize, selects, tempOverlay, workloads, type Doc } from './deploy-files.ts';

const BASE = path.join(KUBERNETES_DIR, 'base');
const EXAMPLE = path.join(KUBERNETES_DIR, 'example');
const SERVICE_MONITOR = path.join(KUBERNETES_DIR, 'components', 'service-monitor');
const withKubectl = KUBECTL ? test : test.skip;
const noKubectl = KUBECTL ? '' : ' (skipped: kubectl is not installed)';

/** The uid the image's `lookout` user has (Dockerfile `useradd --uid`). */
const IMAGE_UID = Number(/useradd\b[^\n]*--uid (\d+)/.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1]);

/** The Secret the base expects from outside (the example overlay generates it). */
function exampleSecret(): Doc {
  const secret = gatherKustomize(EXAMPLE).find((o) => o.kind === 'Secret' && o.metadata.name === 'lookout');
  if (!secret) throw new Error('the example overlay makes no Secret named lookout');
  return secret;
}

/** The image reference a container must use: `lookout`, or what an overlay's `images:` entry makes of it. */
function expectedImage(dir: string | null): string {
  if (dir === null) return 'lookout';
  const entry = (readYamlDocuments(path.join(dir, 'kustomization.yaml'))[0]!.images as Doc[] | undefined)?.find((i) => i.name === 'lookout');
  return entry ? `${entry.newName ?? 'lookout'}${entry.newTag ? `:${entry.newTag}` : ''}` : 'lookout';
}

/**
 * Everything the manifests must hold together: workloads, their containers (image, resources,
 * security, configuration, probes, ports), Services, the PodDisruptionBudget and a ServiceMonitor.
 */
function checkObjects(t: ExecutionContext, objects: Doc[], image: string): void {
  const found = (kind: string, name: string) => objects.some((o) => o.kind === kind && o.metadata?.name === name);
  const all = workloads(objects);
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  t.true(deployments.length >= 2, 'an API Deployment and a worker Deployment at least');
  const roles = new Set<string>();
  const rolesByDeployment = new Map<string, string[]>();

  for (const d of deployments) t.true(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${d.metadata.name}: the selector selects its pods`);

  for (const w of all) {
    const where = `${w.kind} ${w.name}`;
    const pod = w.pod;
    t.true(pod.securityContext?.runAsNonRoot, `${where}: runAsNonRoot`);
    t.is(pod.securityContext?.runAsUser, IMAGE_UID, `${where}: the image's lookout user`);
    t.is(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccomp`);
    t.true(found('ServiceAccount', pod.serviceAccountName), `${where}: its ServiceAccount exists`);
    t.false(pod.automountServiceAccountToken, `${where}: no API token mounted`);
    const volumes = new Map(((pod.volumes ?? []) as Doc[]).map((v) => [v.name as string, v]));
    for (const v of volumes.values()) if (v.configMap) t.true(found('ConfigMap', v.configMap.name), `${where}: ConfigMap ${v.configMap.name} exists`);

    for (const c of [...((pod.initContainers ?? []) as Doc[]), ...(pod.containers as Doc[])]) {
      const at = `${where}/${c.name}`;
      t.is(c.image, image, `${at}: the Lookout image`);
      for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) t.truthy(c.resources?.[kind]?.[r], `${at}: ${kind}.${r}`);
      t.false(c.securityContext?.allowPrivilegeEscalation, `${at}: no privilege escalation`);
      t.true(c.securityContext?.readOnlyRootFilesystem, `${at}: read-only root filesystem`);
      t.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${at}: every capability dropped`);
      for (const m of (c.volumeMounts ?? []) as Doc[]) t.true(volumes.has(m.name), `${at}: volume ${m.name} exists`);
      // The configuration it would load: LOOKOUT_* keys, Secret keys and the mounted lookout.yaml, validated whole.
      const config = containerConfig(objects, pod, c);
      t.not(config.database.url, '', `${at}: DATABASE_URL from the Secret`);
      const args = [...((c.command ?? []) as string[]), ...((c.args ?? []) as string[])].join(' ');
      const isInit = ((pod.initContainers ?? []) as Doc[]).includes(c);
      if (isInit) {
        t.regex(args, /node src\/cli\/main\.ts migrate --status/, `${at}: waits on the migration status`);
        continue;
      }
      const tmp = ((c.volumeMounts ?? []) as Doc[]).find((m) => m.mountPath === '/tmp');
      t.truthy(tmp && volumes.get(tmp.name)?.emptyDir, `${at}: a writable /tmp from an emptyDir`);
      if (w.kind === 'Job') {
        t.deepEqual(c.args, ['migrate'], `${at}: lookout migrate`);
        t.true(['OnFailure', 'Never'].includes(pod.restartPolicy));
        continue;
      }
      t.deepEqual(c.args ?? ['serve'], ['serve'], `${at}: lookout serve`);
      t.false(config.database.migrateOnStart, `${at}: never migrates on start (the Job does)`);
      t.true(((pod.initContainers ?? []) as Doc[]).length > 0, `${where}: waits for the migration first`);
      for (const role of config.roles) roles.add(role);
      rolesByDeployment.set(w.name, [...config.roles]);
      const http = ((c.ports ?? []) as Doc[]).find((p) => p.name === 'http');
      t.is(http?.containerPort, config.server.port, `${at}: the port it listens on`);
      t.is(c.livenessProbe?.httpGet?.path, '/healthz', `${at}: liveness`);
      t.is(c.readinessProbe?.httpGet?.path, '/readyz', `${at}: readiness`);
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) t.is(probe.httpGet.port, 'http', `${at}: probes the named port`);
    }
  }
  t.deepEqual([...roles].sort(), [...ROLES].sort(), 'the Deployments run every role between them');
  t.true(all.some((w) => w.kind === 'Job'), 'a migration Job');
  const api = [...rolesByDeployment].filter(([, r]) => r.includes('api')).map(([name]) => name);
  const workers = [...rolesByDeployment].filter(([, r]) => r.includes('worker')).map(([name]) => name);
  t.true(api.length > 0 && workers.length > 0 && !api.some((name) => workers.includes(name)), 'API and workers in separate Deployments (scaled apart)');

  const services = objects.filter((o) => o.kind === 'Service');
  for (const s of services) {
    const behind = deployments.filter((d) => selects(s.spec.selector, d.spec.template.metadata.labels));
    t.true(behind.length > 0, `Service ${s.metadata.name} selects Lookout pods`);
    for (const port of s.spec.ports as Doc[]) {
      for (const d of behind) {
        const ports = (d.spec.template.spec.containers as Doc[]).flatMap((c) => (c.ports ?? []) as Doc[]);
        t.true(ports.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort), `Service ${s.metadata.name}: ${port.targetPort} is a port of ${d.metadata.name}`);
      }
    }
  }
  const apiService = services.find((s) => s.metadata.name === 'lookout');
  t.truthy(apiService, 'Service lookout');
  t.deepEqual(deployments.filter((d) => selects(apiService!.spec.selector, d.spec.template.metadata.labels)).map((d) => d.metadata.name), api, 'it sends traffic to the API pods only');
  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    t.true(deployments.some((d) => selects(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels)), `PDB ${pdb.metadata.name} selects pods`);
  }
  for (const monitor of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    const target = services.filter((s) => selects(monitor.spec.selector.matchLabels, s.metadata.labels ?? {}));
    t.is(target.length, 1, 'the ServiceMonitor selects one Service');
    for (const endpoint of monitor.spec.endpoints as Doc[]) {
      t.true((target[0]!.spec.ports as Doc[]).some((p) => p.name === endpoint.port), `the ServiceMonitor scrapes port ${endpoint.port} of it`);
      t.is(endpoint.path, '/metrics');
    }
    const scraped = deployments.filter((d) => selects(target[0]!.spec.selector, d.spec.template.metadata.labels)).map((d) => d.metadata.name).sort();
    t.deepEqual(scraped, [...rolesByDeployment.keys()].sort(), 'every Lookout Deployment is scraped');
  }
}

test('every Kubernetes manifest parses as YAML and names its kind', (t) => {
  const files = readdirSync(KUBERNETES_DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /\.ya?ml$/.test(e.name));
  t.true(files.length >= 10);
  for (const entry of files) {
    const file = path.join(entry.parentPath, entry.name);
    const docs = readYamlDocuments(file);
    t.true(docs.length > 0, file);
    if (entry.name === 'lookout.yaml') continue; // Lookout's own settings, checked with loadConfig below
    for (const doc of docs) {
      t.truthy(doc.apiVersion && doc.kind, `${file}: apiVersion and kind`);
      if (!['Kustomization', 'Component'].includes(doc.kind)) t.truthy(doc.metadata?.name, `${file}: a name`);
    }
  }
});

test('the base as written holds together (workloads, configuration, probes, security, Services)', (t) => {
  const objects = [...gatherKustomize(BASE), exampleSecret()];
  t.false(objects.some((o) => o.kind === 'ServiceMonitor'), 'no ServiceMonitor unless the component is added');
  checkObjects(t, objects, expectedImage(null));
});

test('the base with the ServiceMonitor component scrapes every Lookout pod', (t) => {
  const objects = [...gatherKustomize(BASE), ...gatherKustomize(SERVICE_MONITOR), exampleSecret()];
  t.is(objects.filter((o) => o.kind === 'ServiceMonitor').length, 1);
  checkObjects(t, objects, expectedImage(null));
});

withKubectl(`kubectl kustomize renders the base, the example overlay and the ServiceMonitor component${noKubectl}`, async (t) => {
  const base = await renderKustomize(BASE);
  t.true(base.some((o) => o.kind === 'ConfigMap' && /^lookout-config-[a-z0-9]+$/.test(o.metadata.name)), 'the generated ConfigMap (hash-suffixed)');
  checkObjects(t, [...base, exampleSecret()], expectedImage(null));

  const example = await renderKustomize(EXAMPLE);
  t.true(example.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'lookout'), 'everything in the lookout namespace');
  t.true(example.some((o) => o.kind === 'Secret' && o.metadata.name.startsWith('lookout-')), 'the generated Secret');
  checkObjects(t, example, expectedImage(EXAMPLE));
  t.is(example.find((o) => o.kind === 'Deployment' && o.metadata.name === 'lookout-worker')?.spec.replicas, 3, 'workers scaled in the overlay');
  t.is(example.find((o) => o.kind === 'Deployment' && o.metadata.name === 'lookout-api')?.spec.replicas, 2);

  const overlay = tempOverlay([BASE], [SERVICE_MONITOR]);
  try {
    const monitored = await renderKustomize(overlay);
    t.is(monitored.filter((o) => o.kind === 'ServiceMonitor').length, 1);
    checkObjects(t, [...monitored, exampleSecret()], expectedImage(null));
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
});

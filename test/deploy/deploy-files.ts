/**
 * Reading the deployment files the way their tools do, for the deploy tests: the Compose file (YAML
 * merge keys, `${VAR:-default}` interpolation), Kustomize directories (resources, components and
 * generated ConfigMaps/Secrets, without kubectl) or `kubectl kustomize` output when kubectl is
 * installed, and the configuration each container would run with.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { Config } from '../../src/config/config-schema.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { ROOT } from '../helpers/cli.ts';
import { findExecutable } from '../helpers/registry-harness.ts';

/** The repository's deploy/ directory. */
export const DEPLOY_DIR = path.join(ROOT, 'deploy');
/** The Kustomize tree. */
export const KUBERNETES_DIR = path.join(DEPLOY_DIR, 'kubernetes');
/** kubectl (its built-in kustomize renders overlays), or null. */
export const KUBECTL = findExecutable('kubectl');

/** A loosely typed YAML mapping. */
export type Doc = Record<string, any>;

/** A Compose service. */
export interface ComposeService {
  name: string;
  spec: Doc;
}

/** deploy/compose.yaml parsed as Compose does (YAML 1.1 merge keys resolved). */
export function loadCompose(): Doc {
  return parse(readFileSync(path.join(DEPLOY_DIR, 'compose.yaml'), 'utf8'), { merge: true }) as Doc;
}

/** Compose interpolation of `${VAR}`, `${VAR:-default}` and `${VAR-default}` with `env` (empty by default). */
export function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (_m, name: string, op: string | undefined, fallback: string | undefined) => {
    const set = env[name];
    if (op === ':-') return set !== undefined && set !== '' ? set : (fallback ?? '');
    if (op === '-') return set ?? fallback ?? '';
    return set ?? '';
  });
}

/** A service's `environment` (mapping or `KEY=value` list) as a plain, interpolated mapping. */
export function serviceEnv(service: Doc): Record<string, string> {
  const raw = service.environment ?? {};
  const entries: Array<[string, string]> = Array.isArray(raw)
    ? raw.map((line: string) => {
        const eq = line.indexOf('=');
        return [line.slice(0, eq), line.slice(eq + 1)] as [string, string];
      })
    : Object.entries(raw).map(([k, v]) => [k, String(v)] as [string, string]);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v)]));
}

/** A short-syntax port (`127.0.0.1:8080:8080`, `5000:5000/tcp`) split into its parts. */
export function parsePort(spec: string): { hostIp: string | null; hostPort: number; containerPort: number } {
  const parts = interpolate(spec).replace(/\/(tcp|udp)$/, '').split(':');
  const containerPort = Number(parts.pop());
  const hostPort = Number(parts.pop() ?? containerPort);
  return { hostIp: parts.length > 0 ? parts.join(':') : null, hostPort, containerPort };
}

/** A short-syntax volume (`./a:/b:ro`, `name:/b`) split into source and target. */
export function parseVolume(spec: string): { source: string; target: string; bind: boolean } {
  const [source = '', target = ''] = spec.split(':');
  return { source, target, bind: source.startsWith('.') || source.startsWith('/') };
}

/**
 * The configuration a Compose service's Lookout process would load: its environment, with
 * LOOKOUT_CONFIG pointing at the bind-mounted file on this side of the mount. Throws ConfigError
 * (listing unknown `LOOKOUT_*` keys among the rest) when the service's settings are invalid.
 */
export function composeServiceConfig(service: Doc): Config {
  const env = serviceEnv(service);
  if (env.LOOKOUT_CONFIG) env.LOOKOUT_CONFIG = hostPathOf(service, env.LOOKOUT_CONFIG);
  return loadConfig({ env, cwd: DEPLOY_DIR });
}

/** The file on the host that a container path of `service` is bind-mounted from. */
export function hostPathOf(service: Doc, containerPath: string): string {
  for (const volume of (service.volumes ?? []) as string[]) {
    const { source, target, bind } = parseVolume(volume);
    if (bind && target === containerPath) return path.resolve(DEPLOY_DIR, source);
  }
  throw new Error(`${containerPath} is not bind-mounted`);
}

/** The Compose services that run Lookout (built from the repository's Dockerfile). */
export function lookoutServices(compose: Doc): ComposeService[] {
  const image = Object.values(compose.services as Record<string, Doc>).find((s) => s.build)?.image;
  return Object.entries(compose.services as Record<string, Doc>)
    .filter(([, s]) => s.build !== undefined || (image !== undefined && s.image === image))
    .map(([name, spec]) => ({ name, spec }));
}

// ---------------------------------------------------------------------------------------------
// Kustomize

/** Every YAML document of a file (throws on a YAML error). */
export function readYamlDocuments(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  return list.map((d) => d.toJS() as Doc).filter((d) => d !== null && d !== undefined);
}

/**
 * The objects a Kustomize directory produces, gathered without kubectl: its resources (files and
 * directories, recursively), its components, and ConfigMaps/Secrets from its generators (named as
 * declared, without the hash suffix; `behavior: replace` replaces). Patches, images and replicas
 * are not applied: this checks what the files say, {@link renderKustomize} what kubectl makes of it.
 */
export function gatherKustomize(dir: string): Doc[] {
  const kustomization = readYamlDocuments(path.join(dir, 'kustomization.yaml'))[0]!;
  let objects: Doc[] = [];
  for (const entry of [...((kustomization.resources ?? []) as string[]), ...((kustomization.components ?? []) as string[])]) {
    const target = path.resolve(dir, entry);
    objects.push(...(statSync(target).isDirectory() ? gatherKustomize(target) : readYamlDocuments(target)));
  }
  const generated = [
    ...((kustomization.configMapGenerator ?? []) as Doc[]).map((g) => generate('ConfigMap', g, dir)),
    ...((kustomization.secretGenerator ?? []) as Doc[]).map((g) => generate('Secret', g, dir)),
  ];
  for (const { object, replace } of generated) {
    if (replace) objects = objects.filter((o) => !(o.kind === object.kind && o.metadata?.name === object.metadata.name));
    objects.push(object);
  }
  return objects;
}

function generate(kind: 'ConfigMap' | 'Secret', generator: Doc, dir: string): { object: Doc; replace: boolean } {
  const data: Record<string, string> = {};
  for (const file of (generator.files ?? []) as string[]) {
    const [key, source] = file.includes('=') ? file.split('=') : [path.basename(file), file];
    data[key!] = readFileSync(path.resolve(dir, source!), 'utf8');
  }
  for (const envFile of (generator.envs ?? []) as string[]) Object.assign(data, parseEnvFile(readFileSync(path.resolve(dir, envFile), 'utf8')));
  for (const literal of (generator.literals ?? []) as string[]) {
    const eq = literal.indexOf('=');
    data[literal.slice(0, eq)] = literal.slice(eq + 1);
  }
  const object = kind === 'ConfigMap' ? { apiVersion: 'v1', kind, metadata: { name: generator.name }, data } : { apiVersion: 'v1', kind, metadata: { name: generator.name }, stringData: data };
  return { object, replace: generator.behavior === 'replace' };
}

/** A Kustomize env file: `KEY=value` lines, `#` comments and blank lines ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    out[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return out;
}

/** `kubectl kustomize DIR` parsed (throws with kubectl's message when it refuses). */
export function renderKustomize(dir: string): Promise<Doc[]> {
  return new Promise((resolve, reject) => {
    execFile(KUBECTL!, ['kustomize', dir], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kubectl kustomize ${dir} failed: ${stderr.trim()}`));
      else resolve(parseAllDocuments(stdout).map((d) => d.toJS() as Doc).filter(Boolean));
    });
  });
}

/**
 * A Kustomization in a temporary directory that lists `resources` and `components` (given as
 * absolute paths, written relative: kustomize refuses absolute ones).
 */
export function tempOverlay(resources: string[], components: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-overlay-'));
  const relative = (list: string[]) => list.map((p) => path.relative(dir, p));
  writeFileSync(
    path.join(dir, 'kustomization.yaml'),
    JSON.stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: relative(resources), components: relative(components) }),
  );
  return dir;
}

/** A workload (Deployment or Job) and its pod spec. */
export interface Workload {
  kind: string;
  name: string;
  templateLabels: Record<string, string>;
  pod: Doc;
}

/** The Deployments, StatefulSets and Jobs among `objects`. */
export function workloads(objects: Doc[]): Workload[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind))
    .map((o) => ({ kind: o.kind, name: o.metadata.name, templateLabels: o.spec.template.metadata?.labels ?? {}, pod: o.spec.template.spec }));
}

/** Whether every `selector` label is among `labels`. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * The configuration a container would load: its `env` (values, and Secret keys looked up in the
 * Secret objects among `objects`; a missing optional key is left out, a missing required one throws),
 * with LOOKOUT_CONFIG pointing at a temporary copy of the ConfigMap file mounted there.
 */
export function containerConfig(objects: Doc[], pod: Doc, container: Doc): Config {
  const env: Record<string, string> = {};
  for (const entry of (container.env ?? []) as Doc[]) {
    if (entry.value !== undefined) env[entry.name] = String(entry.value);
    else if (entry.valueFrom?.secretKeyRef) {
      const ref = entry.valueFrom.secretKeyRef as Doc;
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
      const value = secret ? (secret.stringData?.[ref.key] ?? decode(secret.data?.[ref.key])) : undefined;
      if (value !== undefined) env[entry.name] = value;
      else if (!ref.optional) throw new Error(`${container.name}: ${entry.name} needs key ${ref.key} of Secret ${ref.name}, which is not there`);
    } else throw new Error(`${container.name}: ${entry.name} comes from an unsupported source`);
  }
  if (env.LOOKOUT_CONFIG === undefined) return loadConfig({ env });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-configmap-'));
  try {
    env.LOOKOUT_CONFIG = configMapFile(objects, pod, container, env.LOOKOUT_CONFIG, dir);
    return loadConfig({ env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function decode(base64: string | undefined): string | undefined {
  return base64 === undefined ? undefined : Buffer.from(base64, 'base64').toString();
}

/** Writes the ConfigMap key mounted at `file` in `container` into `dir`; returns its path. */
function configMapFile(objects: Doc[], pod: Doc, container: Doc, file: string, dir: string): string {
  const mount = ((container.volumeMounts ?? []) as Doc[]).find((m) => file.startsWith(`${m.mountPath}/`));
  if (!mount) throw new Error(`${container.name}: nothing is mounted at ${file}`);
  const volume = ((pod.volumes ?? []) as Doc[]).find((v) => v.name === mount.name);
  const name = volume?.configMap?.name;
  if (!name) throw new Error(`${container.name}: ${mount.mountPath} is not a ConfigMap volume`);
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  const key = file.slice(mount.mountPath.length + 1);
  const text = configMap?.data?.[key];
  if (typeof text !== 'string') throw new Error(`${container.name}: ConfigMap ${name} has no key ${key}`);
  writeFileSync(path.join(dir, key), text);
  return path.join(dir, key);
}

/** HTTP paths a deployment file expects a Lookout process with `roles` (and `configFile`) to serve. */
export interface ProbeTarget {
  where: string;
  configFile: string;
  roles: string;
  paths: string[];
}

/**
 * Every HTTP path the deployment files call on Lookout: Compose health checks, Kubernetes probes of
 * the base's Deployments, and the ServiceMonitor's scrape path on every pod it scrapes.
 */
export function probeTargets(): ProbeTarget[] {
  const targets: ProbeTarget[] = [];
  const compose = loadCompose();
  for (const { name, spec } of lookoutServices(compose)) {
    if (spec.command !== undefined && spec.command[0] !== 'serve') continue;
    const command = (spec.healthcheck?.test ?? []).join(' ');
    const paths = [...command.matchAll(/http:\/\/127\.0\.0\.1:\d+(\/[A-Za-z0-9/_-]*)/g)].map((m) => m[1]!);
    targets.push({ where: `compose ${name}`, configFile: path.join(DEPLOY_DIR, 'lookout.yaml'), roles: serviceEnv(spec).LOOKOUT_ROLES ?? '', paths });
  }
  const base = path.join(KUBERNETES_DIR, 'base');
  const objects = [...gatherKustomize(base), ...gatherKustomize(path.join(KUBERNETES_DIR, 'components', 'service-monitor'))];
  const services = objects.filter((o) => o.kind === 'Service');
  const scrapePaths = objects
    .filter((o) => o.kind === 'ServiceMonitor')
    .flatMap((m) => services.filter((s) => selects(m.spec.selector.matchLabels, s.metadata.labels ?? {})).map((s) => ({ service: s, paths: (m.spec.endpoints as Doc[]).map((e) => e.path as string) })));
  for (const w of workloads(objects).filter((w) => w.kind === 'Deployment')) {
    for (const c of w.pod.containers as Doc[]) {
      const roles = ((c.env ?? []) as Doc[]).find((e) => e.name === 'LOOKOUT_ROLES')?.value ?? '';
      const probes = [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean).map((p: Doc) => p.httpGet.path as string);
      const scraped = scrapePaths.filter((s) => selects(s.service.spec.selector, w.templateLabels)).flatMap((s) => s.paths);
      targets.push({ where: `Deployment ${w.name}`, configFile: path.join(base, 'lookout.yaml'), roles, paths: [...new Set([...probes, ...scraped])] });
    }
  }
  return targets;
}

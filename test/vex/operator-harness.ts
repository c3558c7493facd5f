/**
 * Shared setup of the operator-data tests (advisories, VEX, exceptions, remediation): a Lookout
 * on its own database serving the API on 127.0.0.1 with an API key, generated Alpine images
 * indexed from an OCI layout with the real indexer and linked to repositories, and a JSON client.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { scanImage } from '../../src/cli/scan-image.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { OciLayoutBuilder, type BuiltLayer, type LayerFile } from '../helpers/oci-image-builder.ts';
import { testConfig } from '../helpers/test-config.ts';

export const API_KEY = 'operator-data-api-key-0123456789';

/** A running Lookout for a test file. */
export interface OperatorHarness {
  db: TestDatabase;
  lookout: Lookout;
  base: string;
  dir: string;
  layout: OciLayoutBuilder;
  close(): Promise<void>;
}

/** Starts Lookout (roles as given, default all but updater) with an API key and one configured registry `local`. */
export async function startOperatorLookout(label: string, overrides: Record<string, unknown> = {}): Promise<OperatorHarness> {
  const db = await createTestDatabase(label);
  const dir = await mkdtemp(path.join(os.tmpdir(), `lookout-${label}-`));
  const layout = await OciLayoutBuilder.create(dir);
  const config = testConfig(db.url, {
    roles: ['api', 'worker', 'notifier'],
    registries: [{ name: 'local', url: 'http://127.0.0.1:9', webhookSecret: 'unused-secret-0123' }],
    auth: { api: { mode: 'api-key', keys: [API_KEY] } },
    notifier: { publicBaseUrl: 'http://lookout.example.test', currentImageDays: 30, batchWindowSeconds: 0, pollIntervalSeconds: 0.2, retryBaseSeconds: 0.2, allowedWebhookOrigins: ['*'] },
    ...overrides,
  });
  const lookout = await buildLookout(config, { logger: createLogger(process.env.LOOKOUT_TEST_LOG_LEVEL ?? 'silent'), migrate: false });
  const address = await lookout.start();
  return {
    db,
    lookout,
    base: `http://127.0.0.1:${address.port}`,
    dir,
    layout,
    async close() {
      await lookout.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An apk `installed` database of `packages` (name, version, origin). */
export function apkInstalled(packages: ReadonlyArray<[name: string, version: string, origin: string]>): string {
  return packages.map(([name, version, origin]) => `C:Q1${Buffer.from(name).toString('base64')}=\nP:${name}\nV:${version}\nA:x86_64\no:${origin}\nm:Alpine Maintainers\n`).join('\n');
}

/** The files of an Alpine 3.19 layer with these packages. */
export function alpineLayerFiles(packages: ReadonlyArray<[string, string, string]>): LayerFile[] {
  return [
    { path: 'etc/os-release', content: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' },
    { path: 'etc/apk/repositories', content: 'https://dl-cdn.alpinelinux.org/alpine/v3.19/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.19/community\n' },
    { path: 'lib/apk/db/installed', content: apkInstalled(packages) },
  ];
}

/**
 * Builds an image of `layers` in the harness's layout, indexes it with the real indexer (as
 * `lookout scan oci:DIR:TAG` does), links it to `repository` (tag `tag`) of registry `local`,
 * and makes its report again (the repository decides which scoped decisions apply).
 */
export async function indexImage(h: OperatorHarness, layers: BuiltLayer[], place: { repository: string; tag: string }): Promise<{ manifestId: number; digest: string }> {
  const image = await h.layout.addImage({ layers, platform: { os: 'linux', architecture: 'amd64' } });
  const name = `${place.repository.replace(/\//g, '-')}-${place.tag}`;
  await h.layout.tag(name, image);
  const scanned = await scanImage(h.lookout, `oci:${h.dir}:${name}`, {});
  const manifestId = scanned.images[0]!.manifestId;
  const registry = await h.db.knex('registries').where({ name: 'local' }).first('id');
  const repositoryId = await h.lookout.images.repositoryId(Number(registry.id), place.repository);
  await h.lookout.images.linkToRepository(repositoryId, manifestId);
  await h.lookout.images.setTag(repositoryId, place.tag, manifestId);
  await h.lookout.reports.refresh(manifestId);
  return { manifestId, digest: image.digest };
}

/** A JSON API call with the harness's key (or none). */
export async function api(h: { base: string }, method: string, pathname: string, body?: unknown, options: { key?: string | null; raw?: string | Buffer; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const key = options.key === undefined ? API_KEY : options.key;
  if (key !== null) headers['x-scanneradapter-api-key'] = key;
  let payload: string | Buffer | undefined;
  if (options.raw !== undefined) payload = options.raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${h.base}${pathname}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  let json: any = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** An advisory for an Alpine 3.19 origin package, fixed in `fixed` (Lookout's advisory JSON). */
export function alpineAdvisory(id: string, origin: string, fixed: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    summary: `${id} in ${origin}`,
    severity: 'High',
    links: [`https://security.example.test/${id}`],
    affected: [{ ecosystem: 'apk', distribution: 'alpine:3.19', package: origin, ranges: [{ events: [{ introduced: '0' }, { fixed }] }] }],
    ...more,
  };
}

/**
 * Calls `read` until `check` holds for its value (or 5 s pass), and returns the last value. The
 * API keeps status documents in memory until PostgreSQL announces a change, so a read right
 * after a change may briefly see the document before it.
 */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

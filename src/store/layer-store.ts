import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { FoundDistribution, FoundPackage } from '../ecosystems/scanner.ts';
import { layerChainIds } from './layer-chain-ids.ts';

export interface ScannerRef {
  name: string;
  version: string;
  kind: 'package' | 'distribution' | 'repository';
}

/** A layer of a manifest, in order. */
export interface LayerDescriptor {
  digest: string;
  diffId: string | null;
  mediaType: string | null;
  size: number | null;
}

/** One scanner's result for one layer, as stored. */
export interface LayerScanRecord {
  scannerId: number;
  state: 'done' | 'failed';
  error?: string | null;
  files: readonly string[];
  symlinks: Readonly<Record<string, string>>;
  notes: readonly string[];
  packages: readonly (FoundPackage & { ownerKey?: string | null })[];
  distributions: readonly FoundDistribution[];
}

/** A stored package with its row id. */
export type StoredPackage = FoundPackage & { id: number };
export type StoredDistribution = FoundDistribution & { id: number };

/** What a layer holds for the scanners asked about (for coalescing). */
export interface StoredLayerContribution {
  packages: StoredPackage[];
  distributions: StoredDistribution[];
  files: string[];
  symlinks: Record<string, string>;
  whiteouts: { path: string; opaque: boolean }[];
  notes: string[];
}

export interface ImageViewRecord {
  distributionId: number | null;
  packages: { packageId: number; path: string; introducedIn: number; distributionId: number | null; ownerPackageId: number | null }[];
}

/**
 * Layers and what scanning them found. A layer is content-addressed and scanned once per scanner
 * version; packages and distributions are deduplicated on a content key.
 */
export interface LayerStore {
  scannerIds(scanners: readonly ScannerRef[]): Promise<Map<string, number>>;
  upsertLayers(layers: readonly LayerDescriptor[]): Promise<Map<string, number>>;
  /**
   * Makes `layers` (in order, base first) the manifest's layers, and records its layer chain id
   * (see {@link layerChainIds}), by which images built on it find it as their base.
   */
  setManifestLayers(manifestId: number, layers: readonly { id: number; digest: string }[]): Promise<void>;
  /** For each layer, the scanners (of those given) that already scanned it successfully. */
  scannedBy(layerIds: readonly number[], scannerIds: readonly number[]): Promise<Map<number, Set<number>>>;
  /** Stores a layer's whiteouts and every scanner's result in one transaction. */
  saveLayer(layerId: number, layer: { whiteouts: readonly { path: string; opaque: boolean }[]; uncompressedSize: number | null; compression: string | null }, scans: readonly LayerScanRecord[]): Promise<void>;
  contributions(layerIds: readonly number[], scannerIds: readonly number[]): Promise<Map<number, StoredLayerContribution>>;
  /** Replaces a manifest's coalesced package list (the reverse-match index) and its distribution. */
  saveImageView(manifestId: number, view: ImageViewRecord): Promise<void>;
}

/** `name@version` — the key {@link LayerStore.scannerIds} answers with. */
export function scannerKey(s: Pick<ScannerRef, 'name' | 'version'>): string {
  return `${s.name}@${s.version}`;
}

/** The content key that deduplicates packages. */
export function packageKey(p: FoundPackage): string {
  const identity = [p.ecosystem, p.name, p.version, p.sourceName ?? '', p.sourceVersion ?? '', p.arch ?? '', p.module ?? '', p.vendor ?? '', p.purl ?? ''];
  return createHash('sha256').update(identity.join('\u0000')).digest('hex').slice(0, 40);
}

function distributionKey(d: FoundDistribution): string {
  const identity = [d.did, d.name ?? '', d.version ?? '', d.versionId ?? '', d.versionCodename ?? '', d.prettyName ?? '', d.cpe ?? ''];
  return createHash('sha256').update(identity.join('\u0000')).digest('hex').slice(0, 40);
}

/** {@link LayerStore} on PostgreSQL. */
export class PgLayerStore implements LayerStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async scannerIds(scanners: readonly ScannerRef[]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    if (scanners.length === 0) return ids;
    const rows = await this.knex('scanners')
      .insert(scanners.map((s) => ({ name: s.name, version: s.version, kind: s.kind })))
      .onConflict(['name', 'version', 'kind'])
      .merge(['name'])
      .returning<{ id: string; name: string; version: string }[]>(['id', 'name', 'version']);
    for (const row of rows) ids.set(scannerKey(row), Number(row.id));
    return ids;
  }

  async upsertLayers(layers: readonly LayerDescriptor[]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    const unique = [...new Map(layers.map((l) => [l.digest, l])).values()];
    if (unique.length === 0) return ids;
    const rows = await this.knex('layers')
      .insert(unique.map((l) => ({ digest: l.digest, diff_id: l.diffId, media_type: l.mediaType, size: l.size })))
      .onConflict('digest')
      .merge({ diff_id: this.knex.raw('coalesce(layers.diff_id, excluded.diff_id)') })
      .returning<{ id: string; digest: string }[]>(['id', 'digest']);
    for (const row of rows) ids.set(row.digest, Number(row.id));
    return ids;
  }

  async setManifestLayers(manifestId: number, layers: readonly { id: number; digest: string }[]): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx('manifests').where({ id: manifestId }).forUpdate().first('id');
      await trx('manifest_layers').where({ manifest_id: manifestId }).delete();
      await trx('image_layer_chains').where({ manifest_id: manifestId }).delete();
      if (layers.length === 0) return;
      await trx('manifest_layers').insert(layers.map((layer, position) => ({ manifest_id: manifestId, position, layer_id: layer.id })));
      const chains = layerChainIds(layers.map((l) => l.digest));
      await trx('image_layer_chains').insert({ manifest_id: manifestId, chain_id: chains[chains.length - 1]!, layers: layers.length });
    });
  }

  async scannedBy(layerIds: readonly number[], scannerIds: readonly number[]): Promise<Map<number, Set<number>>> {
    const result = new Map<number, Set<number>>(layerIds.map((id) => [id, new Set<number>()]));
    if (layerIds.length === 0 || scannerIds.length === 0) return result;
    const rows = await this.knex('layer_scans')
      .whereIn('layer_id', [...layerIds])
      .whereIn('scanner_id', [...scannerIds])
      .where({ state: 'done' })
      .select('layer_id', 'scanner_id');
    for (const row of rows) result.get(Number(row.layer_id))?.add(Number(row.scanner_id));
    return result;
  }

  async saveLayer(
    layerId: number,
    layer: { whiteouts: readonly { path: string; opaque: boolean }[]; uncompressedSize: number | null; compression: string | null },
    scans: readonly LayerScanRecord[],
  ): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx('layers').where({ id: layerId }).update({ uncompressed_size: layer.uncompressedSize, compression: layer.compression });
      await trx('layer_whiteouts').where({ layer_id: layerId }).delete();
      for (let i = 0; i < layer.whiteouts.length; i += 5000) {
        const chunk = layer.whiteouts.slice(i, i + 5000);
        await trx('layer_whiteouts')
          .insert(chunk.map((w) => ({ layer_id: layerId, path: w.path, opaque: w.opaque })))
          .onConflict(['layer_id', 'path'])
          .merge(['opaque']);
      }
      const allPackages = scans.flatMap((s) => s.packages);
      const packageIds = await upsertPackages(trx, allPackages);
      for (const scan of scans) {
        await trx('layer_packages').where({ layer_id: layerId, scanner_id: scan.scannerId }).delete();
        await trx('layer_distributions').where({ layer_id: layerId, scanner_id: scan.scannerId }).delete();
        const rows = new Map<string, object>();
        for (const p of scan.packages) {
          const packageId = packageIds.get(packageKey(p))!;
          const ownerId = p.ownerKey ? (packageIds.get(p.ownerKey) ?? null) : null;
          rows.set(`${packageId}\u0000${p.path}`, { layer_id: layerId, scanner_id: scan.scannerId, package_id: packageId, path: p.path, owner_package_id: ownerId });
        }
        const list = [...rows.values()];
        for (let i = 0; i < list.length; i += 5000) await trx('layer_packages').insert(list.slice(i, i + 5000));
        for (const d of scan.distributions) {
          const distributionId = await upsertDistribution(trx, d);
          await trx('layer_distributions')
            .insert({ layer_id: layerId, scanner_id: scan.scannerId, distribution_id: distributionId, source_path: d.path })
            .onConflict(['layer_id', 'scanner_id', 'distribution_id', 'source_path'])
            .ignore();
        }
        await trx('layer_scans')
          .insert({
            layer_id: layerId,
            scanner_id: scan.scannerId,
            state: scan.state,
            error: scan.error ?? null,
            files: [...scan.files],
            symlinks: JSON.stringify(scan.symlinks),
            notes: [...scan.notes],
            scanned_at: trx.fn.now(),
          })
          .onConflict(['layer_id', 'scanner_id'])
          .merge();
      }
    });
  }

  async contributions(layerIds: readonly number[], scannerIds: readonly number[]): Promise<Map<number, StoredLayerContribution>> {
    const result = new Map<number, StoredLayerContribution>(
      layerIds.map((id) => [id, { packages: [], distributions: [], files: [], symlinks: {}, whiteouts: [], notes: [] }]),
    );
    if (layerIds.length === 0) return result;
    const ids = [...new Set(layerIds)];
    const scans = await this.knex('layer_scans').whereIn('layer_id', ids).whereIn('scanner_id', [...scannerIds]).select('layer_id', 'files', 'symlinks', 'notes');
    for (const s of scans) {
      const c = result.get(Number(s.layer_id))!;
      c.files.push(...(s.files as string[]));
      Object.assign(c.symlinks, s.symlinks as Record<string, string>);
      c.notes.push(...(s.notes as string[]));
    }
    const packages = await this.knex('layer_packages as lp')
      .join('packages as p', 'p.id', 'lp.package_id')
      .whereIn('lp.layer_id', ids)
      .whereIn('lp.scanner_id', [...scannerIds])
      .select('lp.layer_id', 'lp.path', 'lp.owner_package_id', 'p.*');
    for (const row of packages) {
      result.get(Number(row.layer_id))!.packages.push({
        id: Number(row.id),
        ecosystem: row.ecosystem,
        name: row.name,
        version: row.version,
        path: row.path,
        ...(row.source_name ? { sourceName: row.source_name } : {}),
        ...(row.source_version ? { sourceVersion: row.source_version } : {}),
        ...(row.arch ? { arch: row.arch } : {}),
        ...(row.module ? { module: row.module } : {}),
        ...(row.vendor ? { vendor: row.vendor } : {}),
        ...(row.purl ? { purl: row.purl } : {}),
        ...(row.owner_package_id ? { extra: { ownerPackageId: Number(row.owner_package_id) } } : {}),
      });
    }
    const distributions = await this.knex('layer_distributions as ld')
      .join('distributions as d', 'd.id', 'ld.distribution_id')
      .whereIn('ld.layer_id', ids)
      .whereIn('ld.scanner_id', [...scannerIds])
      .select('ld.layer_id', 'ld.source_path', 'd.*');
    for (const row of distributions) {
      result.get(Number(row.layer_id))!.distributions.push({
        id: Number(row.id),
        did: row.did,
        path: row.source_path,
        ...(row.name ? { name: row.name } : {}),
        ...(row.version ? { version: row.version } : {}),
        ...(row.version_id ? { versionId: row.version_id } : {}),
        ...(row.version_codename ? { versionCodename: row.version_codename } : {}),
        ...(row.pretty_name ? { prettyName: row.pretty_name } : {}),
        ...(row.cpe ? { cpe: row.cpe } : {}),
      });
    }
    const whiteouts = await this.knex('layer_whiteouts').whereIn('layer_id', ids).select('layer_id', 'path', 'opaque');
    for (const w of whiteouts) result.get(Number(w.layer_id))!.whiteouts.push({ path: w.path, opaque: w.opaque });
    return result;
  }

  async saveImageView(manifestId: number, view: ImageViewRecord): Promise<void> {
    await this.knex.transaction(async (trx) => {
      // Two indexings of one image (a job and a CLI scan) take turns instead of colliding.
      await trx('manifests').where({ id: manifestId }).forUpdate().first('id');
      await trx('manifest_packages').where({ manifest_id: manifestId }).delete();
      const rows = new Map<string, object>();
      for (const p of view.packages) {
        rows.set(`${p.packageId}\u0000${p.path}`, {
          manifest_id: manifestId,
          package_id: p.packageId,
          path: p.path,
          introduced_in: p.introducedIn,
          distribution_id: p.distributionId,
          owner_package_id: p.ownerPackageId,
        });
      }
      const list = [...rows.values()];
      for (let i = 0; i < list.length; i += 5000) await trx('manifest_packages').insert(list.slice(i, i + 5000));
      await trx('manifests').where({ id: manifestId }).update({ distribution_id: view.distributionId });
    });
  }
}

async function upsertPackages(trx: Knex.Transaction, packages: readonly FoundPackage[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const unique = new Map<string, FoundPackage>();
  for (const p of packages) unique.set(packageKey(p), p);
  const entries = [...unique.entries()];
  for (let i = 0; i < entries.length; i += 2000) {
    const chunk = entries.slice(i, i + 2000);
    const rows = await trx('packages')
      .insert(
        chunk.map(([key, p]) => ({
          key,
          ecosystem: p.ecosystem,
          name: p.name,
          version: p.version,
          kind: 'binary',
          source_name: p.sourceName ?? null,
          source_version: p.sourceVersion ?? null,
          arch: p.arch ?? null,
          module: p.module ?? null,
          vendor: p.vendor ?? null,
          purl: p.purl ?? null,
          extra: p.extra ? JSON.stringify(p.extra) : null,
        })),
      )
      .onConflict('key')
      .merge(['key'])
      .returning<{ id: string; key: string }[]>(['id', 'key']);
    for (const row of rows) ids.set(row.key, Number(row.id));
  }
  return ids;
}

async function upsertDistribution(trx: Knex.Transaction, d: FoundDistribution): Promise<number> {
  const [row] = await trx('distributions')
    .insert({
      key: distributionKey(d),
      did: d.did,
      name: d.name ?? null,
      version: d.version ?? null,
      version_id: d.versionId ?? null,
      version_codename: d.versionCodename ?? null,
      pretty_name: d.prettyName ?? null,
      cpe: d.cpe ?? null,
    })
    .onConflict('key')
    .merge(['key'])
    .returning<{ id: string }[]>('id');
  return Number(row!.id);
}

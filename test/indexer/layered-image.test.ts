import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { useDatabase } from '../helpers/database.ts';
import { OciLayoutBuilder } from '../helpers/oci-image-builder.ts';

// A generated three-layer image, scanned end to end by `lookout scan oci:DIR`: the layer reader,
// every scanner, and the coalescing of layers into the image's package list.

const database = useDatabase(test, 'layered_image');

const dpkg = (name: string, version: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nMaintainer: Debian Maintainers <debian-devel@lists.debian.org>\nDescription: ${name}\n`;
const pyMeta = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;
const npmPkg = (name: string, version: string) => JSON.stringify({ name, version });

test('whiteouts, an opaque directory, a removed and an upgraded package, an os-release symlink, across gzip, zstd and plain layers', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-layered-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const layout = await OciLayoutBuilder.create(dir);
  const site = 'usr/lib/python3/dist-packages';
  const base = await layout.addLayer([
    { path: 'etc', type: 'directory' },
    { path: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    { path: 'usr/lib/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { path: 'var/lib/dpkg/status', content: [dpkg('libc6', '2.36-9+deb12u4'), dpkg('curl', '7.88.1-10+deb12u5'), dpkg('libssl3', '3.0.11-1~deb12u2')].join('\n') },
    { path: `${site}/six-1.16.0.dist-info/METADATA`, content: pyMeta('six', '1.16.0') },
    { path: 'srv/app/node_modules/left-pad/package.json', content: npmPkg('left-pad', '1.3.0') },
    { path: 'opt/tools/node_modules/lodash/package.json', content: npmPkg('lodash', '4.17.20') },
  ]);
  const upgrade = await layout.addLayer(
    [
      // apt-get purge curl && apt-get upgrade libssl3: the whole status file is rewritten.
      { path: 'var/lib/dpkg/status', content: [dpkg('libc6', '2.36-9+deb12u4'), dpkg('libssl3', '3.0.13-1~deb12u1')].join('\n') },
      // pip uninstall six: a whiteout of its dist-info directory.
      { path: `${site}/.wh.six-1.16.0.dist-info`, content: '' },
      // rm -rf /opt/tools && npm install express there: an opaque directory hides the lower layer's content.
      { path: 'opt/tools', type: 'directory' },
      { path: 'opt/tools/.wh..wh..opq', content: '' },
      { path: 'opt/tools/node_modules/express/package.json', content: npmPkg('express', '4.18.2') },
    ],
    { compression: 'zstd' },
  );
  const app = await layout.addLayer([{ path: `${site}/requests-2.31.0.dist-info/METADATA`, content: pyMeta('requests', '2.31.0') }], { compression: 'none' });
  const image = await layout.addImage({ layers: [base, upgrade, app], platform: { os: 'linux', architecture: 'amd64' } });
  await layout.tag('layered', image);

  const db = await database();
  const result = await runCli(['scan', `oci:${dir}:layered`, '--packages', '--format', 'json'], { DATABASE_URL: db.url, LOOKOUT_LOG__LEVEL: 'error' });
  t.is(result.status, 0, result.stderr);
  const [report] = JSON.parse(result.stdout) as { digest: string; packages: { ecosystem: string; name: string; version: string; introducedIn: string }[] }[];
  t.is(report!.digest, image.digest);
  const layerName = new Map<string, string>([
    [base.digest, 'base'],
    [upgrade.digest, 'upgrade'],
    [app.digest, 'app'],
  ]);
  t.deepEqual(report!.packages.map((p) => `${p.ecosystem} ${p.name} ${p.version} from ${layerName.get(p.introducedIn) ?? p.introducedIn}`).sort(), [
    'dpkg libc6 2.36-9+deb12u4 from base',
    'dpkg libssl3 3.0.13-1~deb12u1 from upgrade',
    'npm express 4.18.2 from upgrade',
    'npm left-pad 1.3.0 from base',
    'pypi requests 2.31.0 from app',
  ]);

  // The distribution comes from the symlinked os-release in the base layer.
  const table = await runCli(['scan', `oci:${dir}:layered`], { DATABASE_URL: db.url, LOOKOUT_LOG__LEVEL: 'error' });
  t.is(table.status, 0, table.stderr);
  t.regex(table.stdout, /OS\s+Debian GNU\/Linux 12 \(bookworm\) \(debian:bookworm\)/);
});

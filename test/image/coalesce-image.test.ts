import test from 'ava';
import type { FoundPackage } from '../../src/ecosystems/scanner.ts';
import { coalesceImage, type LayerContribution } from '../../src/indexer/coalesce-image.ts';

const STATUS = 'var/lib/dpkg/status';
const deb = (name: string, version: string): FoundPackage => ({ ecosystem: 'dpkg', name, version, path: STATUS });
const py = (name: string, version: string, path: string): FoundPackage => ({ ecosystem: 'pypi', name, version, path });

function layer(partial: Partial<LayerContribution>): LayerContribution {
  const packages = partial.packages ?? [];
  return { packages, distributions: partial.distributions ?? [], files: partial.files ?? [...new Set(packages.map((p) => p.path))], whiteouts: partial.whiteouts ?? [], symlinks: partial.symlinks ?? {} };
}

const names = (view: ReturnType<typeof coalesceImage>) => view.packages.map((p) => `${p.package.name}@${p.package.version}:${p.introducedIn}`);

test('the newest package database wins: removed packages disappear, upgrades keep the layer that brought them', (t) => {
  const view = coalesceImage([
    layer({ packages: [deb('libc6', '2.36-9'), deb('curl', '7.88.1-10'), deb('vim', '2:9.0.1378-2')] }),
    layer({ packages: [deb('libc6', '2.36-9'), deb('curl', '7.88.1-10+deb12u5')] }), // vim purged, curl upgraded
    layer({ files: ['etc/motd'] }), // nothing a package scanner reads
  ]);
  t.deepEqual(names(view), ['curl@7.88.1-10+deb12u5:1', 'libc6@2.36-9:0']);
  t.true(view.packages.every((p) => p.layer === 1));
});

test('an emptied package database still replaces the older one', (t) => {
  const view = coalesceImage([layer({ packages: [deb('busybox', '1.36')] }), layer({ files: [STATUS] })]);
  t.deepEqual(view.packages, []);
});

test('whiteouts delete language packages and databases; an opaque directory hides lower layers only', (t) => {
  const site = 'usr/lib/python3/site-packages';
  const view = coalesceImage([
    layer({
      packages: [
        py('requests', '2.31.0', `${site}/requests-2.31.0.dist-info/METADATA`),
        py('urllib3', '2.0.7', `${site}/urllib3-2.0.7.dist-info/METADATA`),
        py('idna', '3.6', 'opt/app/lib/idna-3.6.dist-info/METADATA'),
      ],
    }),
    layer({
      packages: [py('certifi', '2024.2.2', 'opt/app/lib/certifi-2024.2.2.dist-info/METADATA')],
      whiteouts: [
        { path: `${site}/requests-2.31.0.dist-info`, opaque: false },
        { path: 'opt/app/lib', opaque: true },
      ],
    }),
  ]);
  t.deepEqual(names(view), ['certifi@2024.2.2:1', 'urllib3@2.0.7:0']);
});

test('a package re-added after a whiteout is present again, from the layer that re-added it', (t) => {
  const apkdb = 'lib/apk/db/installed';
  const view = coalesceImage([
    layer({ packages: [{ ecosystem: 'apk', name: 'musl', version: '1.2.4-r2', path: apkdb }] }),
    layer({ whiteouts: [{ path: 'lib/apk', opaque: false }] }),
    layer({ packages: [{ ecosystem: 'apk', name: 'musl', version: '1.2.4-r3', path: apkdb }] }),
  ]);
  t.deepEqual(names(view), ['musl@1.2.4-r3:2']);
});

test('introduced_in is the first layer where the same package appeared at that path', (t) => {
  const view = coalesceImage([
    layer({ packages: [deb('zlib1g', '1:1.2.13.dfsg-1')] }),
    layer({ packages: [deb('zlib1g', '1:1.2.13.dfsg-1'), deb('openssl', '3.0.11-1~deb12u2')] }),
    layer({ packages: [deb('zlib1g', '1:1.2.13.dfsg-1'), deb('openssl', '3.0.11-1~deb12u2'), deb('git', '1:2.39.2-1.1')] }),
  ]);
  t.deepEqual(names(view), ['git@1:2.39.2-1.1:2', 'openssl@3.0.11-1~deb12u2:1', 'zlib1g@1:1.2.13.dfsg-1:0']);
});

test('the distribution is the newest one not deleted later', (t) => {
  const bookworm = { did: 'debian', versionId: '12', versionCodename: 'bookworm', path: 'usr/lib/os-release' };
  const alpine = { did: 'alpine', versionId: '3.19.1', path: 'etc/os-release' };
  t.is(coalesceImage([layer({ distributions: [bookworm] }), layer({})]).distribution?.distribution.did, 'debian');
  t.is(coalesceImage([layer({ distributions: [bookworm] }), layer({ distributions: [alpine] })]).distribution?.layer, 1);
  const deleted = coalesceImage([layer({ distributions: [bookworm] }), layer({ whiteouts: [{ path: 'usr/lib', opaque: true }] })]);
  t.is(deleted.distribution, null);
});

test('etc/os-release as a symlink into a lower layer takes that layer\'s file', (t) => {
  const fromUsrLib = { did: 'debian', versionId: '11', versionCodename: 'bullseye', path: 'usr/lib/os-release' };
  const oldEtc = { did: 'alpine', versionId: '3.18.4', path: 'etc/os-release' };
  // The newest regular etc/os-release (alpine, layer 1) is replaced by a link to layer 0's file.
  const view = coalesceImage([
    layer({ distributions: [fromUsrLib] }),
    layer({ distributions: [oldEtc] }),
    layer({ symlinks: { 'etc/os-release': '../usr/lib/os-release' } }),
  ]);
  t.is(view.distribution?.distribution.did, 'debian');
  t.is(view.distribution?.layer, 0);
});

import test from 'ava';
import { amazonEcosystem } from '../../../src/ecosystems/amazon/amazon-ecosystem.ts';
import type { Ecosystem } from '../../../src/ecosystems/ecosystem.ts';
import { oracleEcosystem } from '../../../src/ecosystems/oracle/oracle-ecosystem.ts';
import { photonEcosystem } from '../../../src/ecosystems/photon/photon-ecosystem.ts';
import { rhelEcosystem } from '../../../src/ecosystems/rhel/rhel-ecosystem.ts';
import { suseEcosystem } from '../../../src/ecosystems/suse/suse-ecosystem.ts';
import { ubuntuEcosystem } from '../../../src/ecosystems/ubuntu/ubuntu-ecosystem.ts';
import type { FeedDefinition } from '../../../src/ecosystems/updater.ts';

const ECOSYSTEMS: readonly Ecosystem[] = [ubuntuEcosystem, rhelEcosystem, amazonEcosystem, oracleEcosystem, suseEcosystem, photonEcosystem];

test('feed definitions: names, upstream URLs, defaults from an empty options object, updaters built', (t) => {
  const feeds = ECOSYSTEMS.flatMap((e) => (e.feeds ?? []) as readonly FeedDefinition<unknown>[]);
  t.deepEqual(
    feeds.map((f) => [f.name, f.defaultUrl, f.enabledByDefault]),
    [
      ['ubuntu', 'https://security-metadata.canonical.com/oval/', true],
      ['rhel-vex', 'https://security.access.redhat.com/data/csaf/v2/vex/', true],
      ['rhel-oval', 'https://security.access.redhat.com/data/oval/v2/', false],
      ['amazon', 'https://cdn.amazonlinux.com/', true],
      ['oracle', 'https://linux.oracle.com/security/oval/', true],
      ['suse', 'https://ftp.suse.com/pub/projects/security/oval/', true],
      ['photon', 'https://packages.vmware.com/photon/photon_oval_definitions/', true],
    ],
  );
  for (const feed of feeds) {
    const options = feed.options.parse({});
    const updater = feed.create({ url: feed.defaultUrl, options });
    t.is(updater.name, feed.name);
    t.is(updater.defaultUrl, feed.defaultUrl);
    t.is(typeof updater.version, 'string');
  }
});

test('feed options are validated: release lists, products, mirror lists', (t) => {
  const options = (e: Ecosystem, i = 0) => (e.feeds![i] as FeedDefinition<unknown>).options;
  t.false(options(ubuntuEcosystem).safeParse({ releases: ['Jammy!'] }).success);
  t.true(options(ubuntuEcosystem).safeParse({ releases: ['jammy'] }).success);
  t.false(options(suseEcosystem).safeParse({ products: ['sles:15.5'] }).success);
  t.true(options(suseEcosystem).safeParse({ products: ['opensuse-leap:15.6'] }).success);
  t.false(options(amazonEcosystem).safeParse({ releases: [{ release: '3', mirrorList: 'x' }] }).success);
  t.true(options(rhelEcosystem, 1).safeParse({ releases: ['9'], include: ['RHEL9/rhel-9-including-unpatched.oval.xml.bz2'] }).success);
  t.false(options(rhelEcosystem, 0).safeParse({ unknown: 1 }).success);
  t.false(options(photonEcosystem).safeParse({ releases: [] }).success);
  t.false(options(oracleEcosystem).safeParse({ files: ['../x'] }).success);
});

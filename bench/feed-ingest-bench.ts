/**
 * Feed ingest figures: the Debian tracker parse over a generated ~70 MB tracker-shaped JSON, timed
 * to completion with its peak RSS, each measured in a child process, against a bare stream-json
 * token pass over the same file (the floor any streaming parse of it pays).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { getManyValues, isMany, none } from 'stream-chain/defs.js';
import { jsonParser } from 'stream-json/core/parser.js';
import { parseDebianTracker } from '../src/ecosystems/debian/parse-debian-tracker.ts';
import type { Bench } from './figure.ts';
import { random } from './match-workload.ts';

const TARGET_BYTES = 70 * 1000 * 1000;
const RELEASES = ['bullseye', 'bookworm', 'trixie', 'forky', 'sid'];

interface ChildResult {
  seconds: number;
  peakRssMb: number;
  count: number;
}

const bench: Bench = async (ctx) => {
  const file = path.join(ctx.tmpDir, 'debian-tracker.json');
  ctx.log('generating a Debian tracker-shaped JSON');
  const generated = await generateTracker(file, TARGET_BYTES);
  const sizeMb = round((await stat(file)).size / 1e6);
  ctx.log(`${sizeMb} MB, ${generated.packages} source packages, ${generated.entries} package×vulnerability entries`);

  const reference = await runChild('tokens', file);
  ctx.log(`token pass: ${reference.seconds} s, ${reference.peakRssMb} MB`);
  const parse = await runChild('debian', file);
  ctx.log(`debian parse: ${parse.seconds} s, ${parse.peakRssMb} MB, ${parse.count} records`);

  const common = { file_mb: sizeMb, records: parse.count, releases_kept: RELEASES.length };
  ctx.emit({
    name: 'feeds.debian_ingest.seconds',
    value: parse.seconds,
    unit: 's',
    reference: { name: 'stream-json token pass over the same file', value: reference.seconds, unit: 's' },
    target: '<= 60 s',
    ...common,
  });
  ctx.emit({
    name: 'feeds.debian_ingest.peak_rss_mb',
    value: parse.peakRssMb,
    unit: 'MB',
    reference: { name: 'stream-json token pass over the same file, peak RSS', value: reference.peakRssMb, unit: 'MB' },
    target: '<= 400 MB',
    note: 'peak resident set of the whole child process (Node itself included)',
    ...common,
  });
};
export default bench;

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Runs this file as a child (`--child <mode> <file>`) and reads its one JSON line. */
async function runChild(mode: 'tokens' | 'debian', file: string): Promise<ChildResult> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench child ${mode} exited with ${code}`);
  return JSON.parse(out) as ChildResult;
}

async function childMain(mode: string, file: string): Promise<void> {
  const started = performance.now();
  let count = 0;
  if (mode === 'tokens') {
    const parse = jsonParser({ packValues: true, streamValues: false });
    const decoder = new TextDecoder();
    for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
      const out = parse(decoder.decode(chunk as Buffer, { stream: true }));
      if (isMany(out)) count += getManyValues(out).length;
    }
    (parse as unknown as (end: typeof none) => unknown)(none);
  } else {
    for await (const _record of parseDebianTracker(createReadStream(file, { highWaterMark: 64 * 1024 }), { releases: new Set(RELEASES) })) count += 1;
  }
  const seconds = round((performance.now() - started) / 1000);
  const result: ChildResult = { seconds, peakRssMb: round(process.resourceUsage().maxRSS / 1024), count };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (import.meta.main && process.argv[2] === '--child') {
  await childMain(process.argv[3] ?? '', process.argv[4] ?? '');
}

const BASE_NAMES = [
  'linux', 'openssl', 'glibc', 'curl', 'nginx', 'apache2', 'openssh', 'systemd', 'sudo', 'bash', 'busybox', 'zlib', 'libxml2',
  'libxslt', 'expat', 'sqlite3', 'postgresql-15', 'mariadb', 'python3.11', 'python3.13', 'perl', 'ruby3.1', 'php8.2', 'nodejs',
  'golang-1.22', 'rustc', 'openjdk-17', 'openjdk-21', 'firefox-esr', 'thunderbird', 'chromium', 'webkit2gtk', 'imagemagick',
  'ghostscript', 'tiff', 'libpng1.6', 'libjpeg-turbo', 'freetype', 'harfbuzz', 'poppler', 'cups', 'samba', 'bind9', 'unbound',
  'dnsmasq', 'isc-dhcp', 'ntp', 'chrony', 'git', 'subversion', 'vim', 'emacs', 'tar', 'gzip', 'xz-utils', 'bzip2', 'zstd',
  'libarchive', 'gnutls28', 'nss', 'krb5', 'openldap', 'cyrus-sasl2', 'pam', 'shadow', 'util-linux', 'e2fsprogs', 'qemu', 'xen',
  'libvirt', 'docker.io', 'containerd', 'runc', 'podman', 'redis', 'memcached', 'haproxy', 'squid', 'exim4', 'postfix', 'dovecot',
  'wireshark', 'tcpdump', 'ffmpeg', 'gstreamer1.0', 'pulseaudio', 'pipewire', 'xorg-server', 'mesa', 'gtk+3.0', 'glib2.0', 'qtbase-opensource-src',
];
const PREFIXES = ['lib', 'python-', 'node-', 'ruby-', 'golang-github-', 'r-cran-', 'libjs-', 'php-', 'rust-'];
const SUFFIXES = ['', '-perl', '-java', '-tools', '2', '-ocaml', '-utils'];
const WORDS = ['parser', 'yaml', 'http', 'json', 'crypto', 'xml', 'image', 'archive', 'auth', 'template', 'markdown', 'socket', 'cache', 'regex', 'session', 'upload', 'proxy', 'config', 'sql', 'mail'];
const DESCRIPTION_PARTS = [
  'A heap-based buffer overflow in the',
  'An out-of-bounds read in the',
  'A use-after-free in the',
  'Improper input validation in the',
  'An integer overflow in the',
  'A NULL pointer dereference in the',
];

/** Writes a tracker-shaped JSON (`{source: {CVE: {description, scope, debianbug, releases}}}`) of about `target` bytes. */
async function generateTracker(file: string, target: number): Promise<{ packages: number; entries: number }> {
  const rand = random(20261122);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out = createWriteStream(file);
  let written = 0;
  const write = async (s: string): Promise<void> => {
    written += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  const seen = new Set<string>();
  let packages = 0;
  let entries = 0;
  let cve = 0;
  await write('{');
  while (written < target) {
    let name = packages < BASE_NAMES.length ? BASE_NAMES[packages]! : `${pick(PREFIXES)}${pick(WORDS)}${pick(WORDS)}${pick(SUFFIXES)}`;
    if (seen.has(name)) name = `${name}${packages}`;
    seen.add(name);
    const perPackage = name === 'linux' ? 4000 : packages < BASE_NAMES.length ? 20 + Math.floor(rand() * 300) : 1 + Math.floor(rand() * 8);
    const vulns: string[] = [];
    for (let i = 0; i < perPackage; i++) {
      cve += 1;
      const year = 2005 + (cve % 21);
      const id = rand() < 0.01 ? `TEMP-0${String(cve).padStart(6, '0')}-${Math.floor(rand() * 0xffffff).toString(16).toUpperCase()}` : `CVE-${year}-${10000 + cve}`;
      const major = 1 + Math.floor(rand() * 9);
      const version = `${major}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 30)}-${1 + Math.floor(rand() * 5)}`;
      const releases: Record<string, unknown> = {};
      for (const [r, codename] of RELEASES.entries()) {
        const roll = rand();
        const repos: Record<string, string> = { [codename]: `${version}${r < 3 ? `+deb${11 + r}u${1 + Math.floor(rand() * 4)}` : ''}` };
        if (r < 3 && rand() < 0.4) repos[`${codename}-security`] = `${version}+deb${11 + r}u${5 + Math.floor(rand() * 3)}`;
        const urgency = pick(['not yet assigned', 'unimportant', 'low', 'medium', 'high', 'low**', 'medium**']);
        if (roll < 0.62) releases[codename] = { status: 'resolved', repositories: repos, fixed_version: rand() < 0.15 ? '0' : `${version}+fix1`, urgency };
        else if (roll < 0.8) releases[codename] = { status: 'open', repositories: repos, urgency, nodsa: 'Minor issue', nodsa_reason: pick(['', 'ignored', 'postponed']) };
        else if (roll < 0.95) releases[codename] = { status: 'open', repositories: repos, urgency };
        else releases[codename] = { status: 'undetermined', repositories: repos, urgency: 'not yet assigned' };
      }
      const description = `${pick(DESCRIPTION_PARTS)} ${pick(WORDS)} ${pick(WORDS)} handling of ${name} before ${version} allows remote attackers to cause a denial of service or possibly execute arbitrary code via a crafted file.`;
      const entry: Record<string, unknown> = { description, scope: rand() < 0.7 ? 'remote' : 'local', releases };
      if (rand() < 0.5) entry.debianbug = 900000 + Math.floor(rand() * 200000);
      vulns.push(`${JSON.stringify(id)}: ${JSON.stringify(entry)}`);
      entries += RELEASES.length;
    }
    await write(`${packages === 0 ? '' : ','}\n${JSON.stringify(name)}: {${vulns.join(', ')}}`);
    packages += 1;
  }
  await write('\n}\n');
  out.end();
  await once(out, 'finish');
  return { packages, entries };
}

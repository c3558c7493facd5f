/**
 * Keys and certificates the auth tests sign their own tokens with, made by the `openssl` command
 * in a temporary directory (removed at once): a self-signed P-256 certificate (trusted through
 * its libtrust `kid`, its RFC 7638 thumbprint or a `jwk` header), and an x5c chain
 * CA → intermediate → leaf (P-256), plus a rogue CA with the same subject as the real one and the
 * leaf it signed.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OPENSSL_BIN } from '../helpers/registry-harness.ts';

/** A private key and its certificate. */
export interface KeyAndCert {
  key: KeyObject;
  certPem: string;
  /** The certificate as an `x5c` entry (standard base64 DER). */
  x5c: string;
}

/** Everything {@link makeTestKeys} makes. */
export interface TestKeys {
  /** Self-signed P-256. */
  selfSigned: KeyAndCert;
  ca: KeyAndCert;
  intermediate: KeyAndCert;
  /** Signed by the intermediate. */
  leaf: KeyAndCert;
  /** Same subject as `ca`, different key. */
  rogueCa: KeyAndCert;
  /** Signed by the rogue CA. */
  rogueLeaf: KeyAndCert;
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
const LEAF_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n';

/** Makes {@link TestKeys} with openssl (which must be installed). */
export async function makeTestKeys(): Promise<TestKeys> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-auth-keys-'));
  try {
    await writeFile(path.join(dir, 'ca.ext'), CA_EXT);
    await writeFile(path.join(dir, 'leaf.ext'), LEAF_EXT);
    const newKey = (name: string) => openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
    const selfSigned = async (name: string, subject: string) => {
      await newKey(name);
      await openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', subject, '-days', '2', '-out', `${name}.crt`]);
    };
    const signed = async (name: string, subject: string, issuer: string, ext: string) => {
      await newKey(name);
      await openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
      await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.crt`]);
    };
    await selfSigned('self', '/CN=lookout-auth-test-self');
    await selfSigned('ca', '/CN=lookout-auth-test-ca');
    await signed('intermediate', '/CN=lookout-auth-test-intermediate', 'ca', 'ca.ext');
    await signed('leaf', '/CN=lookout-auth-test-leaf', 'intermediate', 'leaf.ext');
    await selfSigned('rogue', '/CN=lookout-auth-test-ca');
    await signed('rogueleaf', '/CN=lookout-auth-test-leaf', 'rogue', 'leaf.ext');
    const load = async (name: string): Promise<KeyAndCert> => {
      const certPem = await readFile(path.join(dir, `${name}.crt`), 'utf8');
      return { key: createPrivateKey(await readFile(path.join(dir, `${name}.key`))), certPem, x5c: certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '') };
    };
    return {
      selfSigned: await load('self'),
      ca: await load('ca'),
      intermediate: await load('intermediate'),
      leaf: await load('leaf'),
      rogueCa: await load('rogue'),
      rogueLeaf: await load('rogueleaf'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function openssl(cwd: string, args: string[]): Promise<void> {
  const bin = OPENSSL_BIN;
  if (bin === null) return Promise.reject(new Error('openssl is not installed'));
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args[0]} failed: ${stderr.trim().slice(-500)}`));
      else resolve();
    });
  });
}

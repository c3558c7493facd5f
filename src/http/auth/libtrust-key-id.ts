import { createHash, type KeyObject } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The key id registry 2.x (docker/libtrust) gives a public key and expects in a token's `kid`:
 * base32 (RFC 4648, no padding) of the first 30 bytes of sha256(DER SubjectPublicKeyInfo), as 12
 * groups of 4 characters joined by `:` (`IINV:U7AE:TKCT:…`).
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(der).digest().subarray(0, 30);
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of hash) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(value >>> bits) & 31];
    }
  }
  // 240 bits = 48 characters exactly: no remainder, no padding
  return out.match(/.{4}/g)!.join(':');
}

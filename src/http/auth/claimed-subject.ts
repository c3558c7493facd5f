import { decodeJwt } from 'jose';
import type { Credentials } from './read-credentials.ts';

const MAX_SUBJECT_CHARS = 256;

/**
 * Who credentials say they are, without verifying them: the user of `Basic` credentials or the
 * `sub` of a bearer JWT. Only for `registry-delegate`, where the registry verifies the very same
 * credentials before any answer depends on them. Null when nothing names a user.
 */
export function claimedSubject(credentials: Credentials): string | null {
  let subject: unknown = null;
  if (credentials.kind === 'bearer') {
    try {
      subject = decodeJwt(credentials.token).sub;
    } catch {
      subject = null;
    }
  } else if (credentials.kind === 'other') {
    const m = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(credentials.value);
    if (m) {
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      subject = colon > 0 ? decoded.slice(0, colon) : null;
    }
  }
  return typeof subject === 'string' && subject !== '' && subject.length <= MAX_SUBJECT_CHARS ? subject : null;
}

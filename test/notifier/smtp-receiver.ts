import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One message the SMTP receiver accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
  user: string | null;
}

export interface SmtpReceiverOptions {
  port?: number;
  /** Require this login (after STARTTLS when `starttls`). */
  auth?: { user: string; password: string };
  /** Offer STARTTLS (with smtp-server's built-in self-signed certificate). */
  starttls?: boolean;
  /** Refuse every recipient with 550. */
  rejectRecipients?: boolean;
}

/** A real SMTP server (smtp-server) on 127.0.0.1 recording what it accepts; closed at the test's end. */
export async function startSmtpReceiver(
  t: { teardown(fn: () => Promise<void>): void },
  options: SmtpReceiverOptions = {},
): Promise<{ port: number; messages: ReceivedMail[]; close(): Promise<void> }> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    logger: false,
    closeTimeout: 100,
    authOptional: options.auth === undefined,
    disabledCommands: options.starttls ? [] : ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.password) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      if (options.rejectRecipients) callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        messages.push({
          from: mailFrom === false ? '' : mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : null,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  let closed = false;
  const close = () =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      closed = true;
      server.close(() => resolve());
    });
  t.teardown(close);
  return { port: (server.server.address() as AddressInfo).port, messages, close };
}

/** A parsed message: unfolded headers (lower-case names) and its text/plain and text/html parts, decoded. */
export interface ParsedMail {
  headers: Map<string, string>;
  text: string | null;
  html: string | null;
}

/**
 * Just enough MIME for the tests: headers, a multipart body split on its boundary (nested
 * multiparts included), quoted-printable and base64 parts decoded as UTF-8.
 */
export function parseMail(raw: string): ParsedMail {
  const mail: ParsedMail = { headers: new Map(), text: null, html: null };
  const { headers, body } = splitEntity(raw);
  mail.headers = headers;
  walk(headers, body, mail);
  return mail;
}

function walk(headers: Map<string, string>, body: string, mail: ParsedMail): void {
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const entity = splitEntity(part.replace(/^\r?\n/, ''));
      walk(entity.headers, entity.body, mail);
    }
    return;
  }
  const decoded = decode(body, headers.get('content-transfer-encoding') ?? '7bit');
  if (/^text\/html/i.test(type)) mail.html = decoded;
  else if (/^text\/plain/i.test(type)) mail.text = decoded;
}

function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decode(body: string, encoding: string): string {
  if (/^quoted-printable$/i.test(encoding)) {
    const bytes: number[] = [];
    const soft = body.replace(/=\r?\n/g, '');
    for (let i = 0; i < soft.length; i++) {
      const c = soft[i]!;
      if (c === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(c, 'utf8'));
      }
    }
    return Buffer.from(bytes).toString('utf8').replace(/\r\n/g, '\n');
  }
  if (/^base64$/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8').replace(/\r\n/g, '\n');
  return body.replace(/\r\n/g, '\n');
}

import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { final, retryable, type DeliveryOutcome } from './delivery-outcome.ts';
import type { SmtpConfig } from './notifier-config.ts';

/** One email of one delivery. */
export interface EmailMessage {
  /** The delivery id: gives the `Message-ID`, identical on every retry. */
  id: string;
  to: readonly string[];
  subject: string;
  text: string;
  html: string;
}

const MAX_REASON = 300;

/**
 * Sends notification email through the configured SMTP server with nodemailer: one connection per
 * message (no pool, so a server that comes back is simply reached next time), implicit TLS or
 * STARTTLS as configured, connect/greeting/socket timeouts. Each message has both parts, a
 * `Message-ID` made from the delivery id (a retry is recognisably the same message), and
 * `Auto-Submitted: auto-generated`. SMTP 5xx refusals are final; everything else is retryable.
 */
export class EmailSender {
  private readonly config: SmtpConfig;
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private readonly domain: string;

  constructor(config: SmtpConfig) {
    this.config = config;
    this.domain = addressDomain(config.from) ?? 'lookout.invalid';
    const options: SMTPTransport.Options = {
      host: config.host,
      port: config.port,
      secure: config.security === 'tls',
      requireTLS: config.security === 'starttls',
      ignoreTLS: config.security === 'none',
      connectionTimeout: config.connectTimeoutMs,
      greetingTimeout: config.greetingTimeoutMs,
      socketTimeout: config.socketTimeoutMs,
      tls: {
        rejectUnauthorized: config.insecureTls !== true,
        ...(config.ca !== undefined ? { ca: config.ca } : {}),
      },
      ...(config.auth ? { auth: { user: config.auth.user, pass: config.auth.password } } : {}),
      ...(config.clientName ? { name: config.clientName } : {}),
      logger: false,
      debug: false,
    };
    this.transport = nodemailer.createTransport(options);
  }

  /** The destination key for rate limiting: every email goes through the same server. */
  destination(): string {
    return `smtp://${this.config.host}:${this.config.port}`;
  }

  /** The `Message-ID` of a delivery's email: `<id@domain of the sender address>`. */
  messageId(id: string): string {
    return `<${id}@${this.domain}>`;
  }

  async send(message: EmailMessage): Promise<DeliveryOutcome> {
    if (message.to.length === 0) return final('no recipients');
    const server = this.destination();
    try {
      const info = await this.transport.sendMail({
        from: this.config.from,
        to: [...message.to],
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: this.messageId(message.id),
        headers: {
          'Auto-Submitted': 'auto-generated',
          'X-Auto-Response-Suppress': 'All',
          'X-Lookout-Delivery': message.id,
        },
      });
      const rejected = info.rejected.length;
      return { ok: true, status: null, ...(rejected > 0 ? { detail: `${rejected} of ${message.to.length} recipients refused` } : {}) };
    } catch (err) {
      const e = err as { code?: unknown; responseCode?: unknown; response?: unknown; message?: unknown };
      const code = typeof e.code === 'string' ? e.code : undefined;
      const responseCode = typeof e.responseCode === 'number' ? e.responseCode : null;
      const response = typeof e.response === 'string' ? clean(e.response) : '';
      if (code === 'EAUTH') return retryable(`SMTP ${server}: authentication failed${responseCode ? ` (${responseCode})` : ''}`, responseCode);
      if (responseCode !== null && responseCode >= 500 && responseCode < 600) {
        return final(`SMTP ${server} refused the message: ${response || responseCode}`, responseCode);
      }
      const what = responseCode !== null ? `${response || responseCode}` : `${code ?? 'error'}${typeof e.message === 'string' ? ` (${clean(e.message)})` : ''}`;
      return retryable(`SMTP ${server} failed: ${what}`, responseCode);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** The domain of the address in `Name <user@domain>` or `user@domain`, or null. */
function addressDomain(from: string): string | null {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return match ? match[1]!.toLowerCase() : null;
}

function clean(value: string): string {
  const line = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON)}…` : line;
}

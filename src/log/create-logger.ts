import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines, constant messages (`"<part> <event>"`), data in fields.
 * Authorization headers, cookies and secret-named fields are censored wherever they appear.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          '*.password',
          '*.secret',
          '*.token',
          'password',
          'secret',
          'token',
        ],
        censor: '***',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

import { userInfo } from 'node:os';
import { AppError } from '../errors/app-error.ts';
import { EXIT } from './exit-codes.ts';
import { DocumentFileError } from './read-document-files.ts';

/**
 * Runs a command body; bad input (a 4xx `AppError`: invalid document, unknown id, conflict) or an
 * unreadable file is one line on stderr and exit code 2; anything else propagates.
 */
export async function asOperatorCommand(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if ((err instanceof AppError && err.status >= 400 && err.status < 500) || err instanceof DocumentFileError) {
      process.stderr.write(`lookout: ${err.message.replace(/\s+/g, ' ')}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    throw err;
  }
}

/** Who a CLI change is recorded as: `cli:<OS user>` (`cli:uid-<n>` when the user has no name). */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // userInfo() throws when the uid has no passwd entry (containers).
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

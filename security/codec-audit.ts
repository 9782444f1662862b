// Who decoded what: one JSON line per /encode or /decode call of `hala codec-server`, to stderr or an
// append-only file (--audit-log), so "who read namespace X's payloads, and when" has an answer:
//   {"time":"…","sub":"alice","namespace":"hala","endpoint":"/decode","payloads":12,"outcome":"ok","status":200}
// Never payload contents, nor error messages (JSON.parse's quotes the body it could not read): the
// line holds only the fields below. `sub` is null when no token was checked (no --auth) or none passed.
import { createWriteStream, openSync } from 'node:fs';

export type AuditOutcome = 'ok' | 'bad_request' | 'unauthorized' | 'forbidden' | 'unavailable' | 'codec_error' | 'error';

export interface AuditEntry {
  sub: string | null;
  namespace: string | null;
  endpoint: string;
  /** How many payloads the body held; null when it was not read (refused before). */
  payloads: number | null;
  outcome: AuditOutcome;
  status: number;
}

export interface AuditLog {
  record(entry: AuditEntry): void;
  close(): Promise<void>;
}

export function auditLine(entry: AuditEntry, now: Date = new Date()): string {
  const { sub, namespace, endpoint, payloads, outcome, status } = entry; // these fields and no others
  return `${JSON.stringify({ time: now.toISOString(), sub, namespace, endpoint, payloads, outcome, status })}\n`;
}

/** Lines to `file` (appended, created 0600) or, without one, to stderr. The file is opened now, so a bad path fails at start. */
export function openAuditLog(file?: string): AuditLog {
  if (!file) return { record: (entry) => void process.stderr.write(auditLine(entry)), close: async () => undefined };
  const stream = createWriteStream(file, { fd: openSync(file, 'a', 0o600) });
  let broken = false;
  // A full disk must not take the decoder down with it, nor lose the lines: they go to stderr instead.
  stream.on('error', (err) => {
    broken = true;
    process.stderr.write(`codec-server: audit log ${file}: ${err.message}; audit lines go to stderr from now on\n`);
  });
  return {
    record: (entry) => void (broken ? process.stderr.write(auditLine(entry)) : stream.write(auditLine(entry))),
    close: () => new Promise<void>((done) => (broken ? done() : stream.end(done))),
  };
}

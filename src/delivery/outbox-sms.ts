import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { OutgoingMessage, Transport } from './message.js';

/** What an outbox file holds: one JSON object per message. */
export interface OutboxSms {
  to: string;
  text: string;
  kind: OutgoingMessage['kind'];
  createdAt: string;
}

/**
 * SMS in the embedded default: nothing is sent. Each message becomes a JSON file in
 * `dir` (dataDir/outbox/sms) and a log line with its text, as the mailer's outbox does for mail,
 * so every flow can be tried with nothing configured. The text holds the code: outbox mode is
 * for one developer machine, and the boot log says that SMS is not being sent.
 */
export function createOutboxSmsTransport(deps: { dir: string; log: Logger }): Transport {
  let made = false;
  return {
    name: 'outbox',
    async send(message) {
      if (!made) {
        mkdirSync(deps.dir, { recursive: true, mode: 0o700 });
        made = true;
      }
      const createdAt = new Date().toISOString();
      const file = join(deps.dir, `${createdAt.replace(/[:.]/g, '-')}-${randomUUID()}.json`);
      const body: OutboxSms = { to: message.to, text: message.text, kind: message.kind, createdAt };
      writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      deps.log.info(
        { file, to: message.to, text: message.text },
        'SMS written to the outbox (sms.transport is outbox)',
      );
    },
  };
}

import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { DeliveryError, type Transport } from './message.js';
import { createOutboxSmsTransport } from './outbox-sms.js';
import { createTwilioTransport } from './twilio.js';
import { createWebhookTransport } from './webhook.js';
import type { Sleep } from './retry.js';

/** The SMS outbox of the embedded default: beside the mail outbox in the data directory. */
export const smsOutboxDir = (dataDir: string): string => join(dataDir, 'outbox', 'sms');

/** The SMS transport sms.transport names, with its settings (validated by the config schema). */
export function createSmsTransport(
  config: Pick<Config, 'sms' | 'storage'>,
  deps: { log: Logger; sleep?: Sleep },
): Transport {
  const { sms } = config;
  switch (sms.transport) {
    case 'webhook':
      return createWebhookTransport(sms.webhook, { sleep: deps.sleep });
    case 'twilio':
      return createTwilioTransport(sms.twilio, { sleep: deps.sleep });
    case 'outbox':
      return createOutboxSmsTransport({ dir: smsOutboxDir(config.storage.dataDir), log: deps.log });
  }
}

/** Where nothing can be sent (the CLI, which sends no codes): every send fails, and is reported as failed. */
export const noTransport: Transport = {
  name: 'none',
  send: () => Promise.reject(new DeliveryError('no transport in this process')),
};

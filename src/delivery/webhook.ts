import { createHmac, randomUUID } from 'node:crypto';
import type { OutgoingMessage, Transport } from './message.js';
import { postWithRetries, type RetryPolicy, type Sleep } from './retry.js';

/** Header with the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'x-gatehouse-signature';

/**
 * The signature of one request body at one time. The timestamp is signed with the body so a
 * receiver can refuse an old request replayed (it should allow a few minutes of clock skew).
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** The JSON a gateway receives (docs/factors.md, "Webhook"). */
interface WebhookBody {
  /** The same for every attempt at one message: a receiver can drop a retried duplicate. */
  id: string;
  channel: 'sms';
  to: string;
  text: string;
  kind: OutgoingMessage['kind'];
}

/**
 * SMS through any gateway: a JSON POST signed with HMAC-SHA256 under sms.webhook.secret, tried
 * again with back-off while the gateway is unreachable, slow or failing (retry.ts). Each attempt
 * is signed with its own time.
 */
export function createWebhookTransport(
  settings: RetryPolicy & { url: string; secret: string },
  deps: { now?: () => number; sleep?: Sleep } = {},
): Transport {
  const now = deps.now ?? Date.now;
  return {
    name: 'webhook',
    async send(message) {
      const payload: WebhookBody = {
        id: randomUUID(),
        channel: 'sms',
        to: message.to,
        text: message.text,
        kind: message.kind,
      };
      const body = JSON.stringify(payload);
      await postWithRetries(
        settings.url,
        () => ({
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: webhookSignature(settings.secret, Math.floor(now() / 1000), body),
          },
          body,
        }),
        settings,
        deps.sleep,
      );
    },
  };
}

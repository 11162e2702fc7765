import type { Transport } from './message.js';
import { postWithRetries, type Sleep } from './retry.js';

export interface TwilioSettings {
  /** https://api.twilio.com, or a compatible API (the tests' local server). */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** An E.164 sender number, or a messaging service SID (MG…). */
  from: string;
  timeoutMs: number;
}

/**
 * SMS through Twilio's Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json, form
 * fields To, Body and From or MessagingServiceSid, HTTP Basic with the account SID and auth
 * token), or any API of the same shape at another base URL. A 5xx or 429 is tried again twice;
 * Twilio queues an accepted message itself (201).
 */
export function createTwilioTransport(settings: TwilioSettings, deps: { sleep?: Sleep } = {}): Transport {
  const url = `${settings.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;
  const sender = settings.from.startsWith('MG') ? 'MessagingServiceSid' : 'From';
  return {
    name: 'twilio',
    async send(message) {
      const form = new URLSearchParams({ To: message.to, [sender]: settings.from, Body: message.text });
      await postWithRetries(
        url,
        () => ({
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
        }),
        { attempts: 3, initialDelayMs: 500, timeoutMs: settings.timeoutMs },
        deps.sleep,
      );
    },
  };
}

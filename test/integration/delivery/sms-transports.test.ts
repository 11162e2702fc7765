import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../src/http/logger.js';
import { DeliveryError, type OutgoingMessage } from '../../../src/delivery/message.js';
import { createOutboxSmsTransport } from '../../../src/delivery/outbox-sms.js';
import { createTwilioTransport } from '../../../src/delivery/twilio.js';
import { createWebhookTransport } from '../../../src/delivery/webhook.js';
import type { Config } from '../../../src/config/schema.js';
import { outboxSms, codeIn } from '../../helpers/code-outbox.js';
import { startTwilioServer, startWebhookReceiver } from '../../helpers/sms-gateways.js';
import { useServices } from '../../helpers/services.js';

const SECRET = 'a-webhook-secret-of-at-least-32-chars!';
const MESSAGE: OutgoingMessage = {
  channel: 'sms',
  kind: 'second_factor',
  to: '+491701234567',
  code: '123456',
  validMinutes: 10,
  locale: 'en',
  userId: null,
  text: '123456 is your code.\n\n@id.example.com #123456',
};

/** Records the back-off instead of waiting it. */
function recordedSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('the webhook SMS transport against a local receiver', () => {
  it('posts the message as JSON with an HMAC-SHA256 signature the receiver verifies', async () => {
    const receiver = await startWebhookReceiver({ secret: SECRET });
    try {
      const transport = createWebhookTransport({
        url: receiver.url,
        secret: SECRET,
        timeoutMs: 2000,
        attempts: 3,
        initialDelayMs: 100,
      });
      await transport.send(MESSAGE);
      expect(receiver.received).toEqual([
        {
          body: { id: expect.any(String), channel: 'sms', to: MESSAGE.to, text: MESSAGE.text, kind: 'second_factor' },
          timestamp: expect.any(Number),
        },
      ]);
      expect(Math.abs((receiver.received[0]?.timestamp ?? 0) - Date.now() / 1000)).toBeLessThan(5);
    } finally {
      await receiver.close();
    }
  });

  it('is refused by the receiver when signed with another secret, and does not retry a 4xx', async () => {
    const receiver = await startWebhookReceiver({ secret: SECRET });
    const { waits, sleep } = recordedSleep();
    try {
      const transport = createWebhookTransport(
        { url: receiver.url, secret: `${SECRET}-other`, timeoutMs: 2000, attempts: 3, initialDelayMs: 100 },
        { sleep },
      );
      await expect(transport.send(MESSAGE)).rejects.toEqual(new DeliveryError('gateway answered 401', 401));
      expect(receiver.attempts).toBe(1);
      expect(receiver.received).toEqual([]);
      expect(waits).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('retries a failing gateway with doubling waits, and gives up after the last attempt', async () => {
    const flaky = await startWebhookReceiver({ secret: SECRET, failFirst: 2 });
    const down = await startWebhookReceiver({ secret: SECRET, status: 503 });
    try {
      const first = recordedSleep();
      await createWebhookTransport(
        { url: flaky.url, secret: SECRET, timeoutMs: 2000, attempts: 3, initialDelayMs: 100 },
        { sleep: first.sleep },
      ).send(MESSAGE);
      expect(flaky.attempts).toBe(3);
      expect(first.waits).toEqual([100, 200]);
      expect(flaky.received).toHaveLength(1);

      const second = recordedSleep();
      const failure = await createWebhookTransport(
        { url: down.url, secret: SECRET, timeoutMs: 2000, attempts: 4, initialDelayMs: 50 },
        { sleep: second.sleep },
      )
        .send(MESSAGE)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DeliveryError);
      expect((failure as DeliveryError).message).toBe('gateway answered 503 after 4 attempt(s)');
      expect((failure as DeliveryError).message).not.toContain(MESSAGE.code ?? '');
      expect(down.attempts).toBe(4);
      expect(second.waits).toEqual([50, 100, 200]);
    } finally {
      await flaky.close();
      await down.close();
    }
  });

  it('gives up on a gateway that does not answer within the timeout', async () => {
    const silent = await startWebhookReceiver({ secret: SECRET, hang: true });
    try {
      const transport = createWebhookTransport({
        url: silent.url,
        secret: SECRET,
        timeoutMs: 150,
        attempts: 1,
        initialDelayMs: 0,
      });
      await expect(transport.send(MESSAGE)).rejects.toThrow('no answer within 150 ms after 1 attempt(s)');
    } finally {
      await silent.close();
    }
  });
});

describe('the Twilio transport against a server with the Messages API shape', () => {
  const credentials = { accountSid: `AC${'a1'.repeat(16)}`, authToken: 'twilio-auth-token' };

  it('posts To, From and Body with Basic auth; a messaging service SID goes as MessagingServiceSid', async () => {
    const twilio = await startTwilioServer(credentials);
    try {
      const settings = { baseUrl: twilio.baseUrl, ...credentials, timeoutMs: 2000 };
      await createTwilioTransport({ ...settings, from: '+15005550006' }).send(MESSAGE);
      await createTwilioTransport({ ...settings, from: `MG${'b2'.repeat(16)}` }).send(MESSAGE);
      expect(twilio.messages).toEqual([
        { To: MESSAGE.to, From: '+15005550006', Body: MESSAGE.text },
        { To: MESSAGE.to, MessagingServiceSid: `MG${'b2'.repeat(16)}`, Body: MESSAGE.text },
      ]);
    } finally {
      await twilio.close();
    }
  });

  it('fails at once on a wrong auth token, sending nothing', async () => {
    const twilio = await startTwilioServer(credentials);
    const { waits, sleep } = recordedSleep();
    try {
      const transport = createTwilioTransport(
        { baseUrl: twilio.baseUrl, ...credentials, authToken: 'wrong', from: '+15005550006', timeoutMs: 2000 },
        { sleep },
      );
      await expect(transport.send(MESSAGE)).rejects.toEqual(new DeliveryError('gateway answered 401', 401));
      expect(twilio.messages).toEqual([]);
      expect(waits).toEqual([]);
    } finally {
      await twilio.close();
    }
  });
});

describe('the embedded SMS outbox', () => {
  it('writes each message to dataDir/outbox/sms as JSON', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gh-sms-'));
    try {
      const transport = createOutboxSmsTransport({
        dir: join(dataDir, 'outbox', 'sms'),
        log: createLogger('silent'),
      });
      await transport.send(MESSAGE);
      expect(outboxSms(dataDir)).toEqual([
        { to: MESSAGE.to, text: MESSAGE.text, kind: 'second_factor', createdAt: expect.any(String) },
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('SMS codes through the webhook, end to end on the services', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const waits: number[] = [];
  const sms = {
    transport: 'webhook',
    // The receiver's URL is known once it listens: set in the beforeAll below, which runs before
    // the rig's (hooks run in the order they are declared), when the rig reads its config.
    webhook: { url: '', secret: SECRET, timeoutMs: 2000, attempts: 3, initialDelayMs: 10 },
  };
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret: SECRET, failFirst: 1 });
    sms.webhook.url = receiver.url;
  });
  afterAll(async () => {
    await receiver.close();
  });
  const rig = useServices({ sms: sms as Partial<Config['sms']> as Config['sms'] }, undefined, {
    delivery: true,
    sleep: async (ms) => void waits.push(ms),
  });

  it('delivers the enrolment code to the gateway (after one retry), and the code enrols the number', async () => {
    const user = await rig.buildUser();
    const origin = { ip: '198.51.100.4' };
    const sent = await rig.services.codeFactors.startPhoneEnrolment({
      userId: user.id,
      phoneNumber: '+49 170 7654321',
      locale: 'de',
      origin,
    });
    await rig.services.codeDelivery.settled();
    expect(waits).toEqual([10]);
    const message = receiver.received.find((m) => m.body.to === '+491707654321');
    if (!message) throw new Error('the gateway got no message');
    expect(message.body.kind).toBe('phone_verification');
    const code = codeIn(message.body.text);
    await expect(
      rig.services.codeFactors.confirmPhoneEnrolment({ userId: user.id, challengeId: sent.challengeId, code, origin }),
    ).resolves.toEqual({ result: 'accepted', amr: ['sms'], channel: 'sms' });
  });
});

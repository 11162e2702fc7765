import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    readBody(req).then(
      (body) => handler(req, res, body),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface ReceivedWebhook {
  body: { id: string; channel: string; to: string; text: string; kind: string };
  timestamp: number;
}

export interface WebhookReceiver {
  url: string;
  /** Requests whose signature verified, in order. */
  received: ReceivedWebhook[];
  /** Every request, verified or not. */
  attempts: number;
  close(): Promise<void>;
}

/**
 * An SMS gateway behind a webhook, as a receiver should be written: it checks the
 * `X-Gatehouse-Signature` header (`t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`) in
 * constant time before it trusts the body, and answers 401 otherwise. `failFirst` requests
 * are answered 503 (a gateway having trouble); `hang` requests get no answer at all.
 */
export async function startWebhookReceiver(options: {
  secret: string;
  failFirst?: number;
  status?: number;
  hang?: boolean;
}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let attempts = 0;
  const server = await listen((req, res, raw) => {
    attempts++;
    if (options.hang) return;
    const header = String(req.headers['x-gatehouse-signature'] ?? '');
    const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
    const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1];
    const expected = t ? createHmac('sha256', options.secret).update(`${t}.${raw}`).digest('hex') : '';
    const verified =
      !!t &&
      !!v1 &&
      req.headers['content-type'] === 'application/json' &&
      timingSafeEqual(Buffer.from(v1), Buffer.from(expected));
    if (!verified) {
      res.writeHead(401).end();
      return;
    }
    if (attempts <= (options.failFirst ?? 0)) {
      res.writeHead(503).end();
      return;
    }
    if (options.status) {
      res.writeHead(options.status).end();
      return;
    }
    received.push({ body: JSON.parse(raw) as ReceivedWebhook['body'], timestamp: Number(t) });
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
  });
  return {
    url: `${server.url}/sms`,
    received,
    get attempts() {
      return attempts;
    },
    close: server.close,
  };
}

export interface TwilioMessage {
  To: string;
  Body: string;
  From?: string;
  MessagingServiceSid?: string;
}

/**
 * A local server with the shape of Twilio's Messages API: POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic with the account SID and auth
 * token, form fields To, Body and From or MessagingServiceSid; 201 with the message resource,
 * 401 (error 20003) for bad credentials, 400 (error 21604) for a missing field.
 */
export async function startTwilioServer(credentials: { accountSid: string; authToken: string }): Promise<{
  baseUrl: string;
  messages: TwilioMessage[];
  close(): Promise<void>;
}> {
  const messages: TwilioMessage[] = [];
  const path = `/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`;
  const basic = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = await listen((req, res, raw) => {
    if (req.method !== 'POST' || req.url !== path) return json(res, 404, { code: 20404, message: 'not found' });
    if (req.headers.authorization !== basic) return json(res, 401, { code: 20003, message: 'Authenticate' });
    const form = new URLSearchParams(raw);
    const message: TwilioMessage = {
      To: form.get('To') ?? '',
      Body: form.get('Body') ?? '',
      ...(form.has('From') ? { From: form.get('From') ?? '' } : {}),
      ...(form.has('MessagingServiceSid') ? { MessagingServiceSid: form.get('MessagingServiceSid') ?? '' } : {}),
    };
    if (!message.To || !message.Body || (!message.From && !message.MessagingServiceSid)) {
      return json(res, 400, { code: 21604, message: 'A required parameter is missing' });
    }
    messages.push(message);
    return json(res, 201, {
      sid: `SM${'0'.repeat(32)}`,
      status: 'queued',
      to: message.To,
      from: message.From ?? null,
      body: message.Body,
    });
  });
  return { baseUrl: server.url, messages, close: server.close };
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import type { OutboxSms } from '../../src/delivery/outbox-sms.js';
import { smsOutboxDir } from '../../src/delivery/transports.js';

const files = (dir: string, ext: string): string[] => {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(ext))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
};

/** Every SMS the embedded default wrote to the outbox (dataDir/outbox/sms), oldest first. */
export function outboxSms(dataDir: string): OutboxSms[] {
  return files(smsOutboxDir(dataDir), '.json').map((file) => JSON.parse(readFileSync(file, 'utf8')) as OutboxSms);
}

/** Every mail the mailer wrote to the outbox (dataDir/outbox/*.eml), oldest first, parsed. */
export async function outboxMail(dataDir: string): Promise<Array<{ to: string; subject: string; text: string }>> {
  return Promise.all(
    files(join(dataDir, 'outbox'), '.eml').map(async (file) => {
      const parsed = await PostalMime.parse(readFileSync(file));
      return {
        to: (parsed.to ?? []).map((a) => a.address ?? '').join(','),
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
      };
    }),
  );
}

/** The newest message's code (a run of 6 to 8 digits on a line of its own, or before " is your"). */
export function codeIn(text: string): string {
  const match = /^\s*(\d{6,8})\s*$/m.exec(text) ?? /^(\d{6,8}) /.exec(text);
  if (!match?.[1]) throw new Error(`no code in: ${text}`);
  return match[1];
}

/** The sign-in link in a mail's text. */
export function linkIn(text: string): URL {
  const match = /https?:\/\/\S+/.exec(text);
  if (!match) throw new Error(`no link in: ${text}`);
  return new URL(match[0]);
}

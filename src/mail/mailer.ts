import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { ViewRenderer } from '../http/views.js';
import type { Translator } from '../i18n/translator.js';

/** One message to one person, written with a template pair in views/email/. */
export interface OutgoingMail {
  to: string;
  /** views/email/<template>.text.ejs and .html.ejs. */
  template: string;
  /** Catalogue key of the subject line, filled in with `locals`. */
  subjectKey: string;
  /** In the recipient's language (the request's, when they asked for the mail themselves). */
  i18n: Translator;
  locals: Record<string, unknown>;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  /** smtp:// or smtps:// URL; empty: messages are written to `outboxDir` instead. */
  smtpUrl: string;
  from: string;
  outboxDir: string;
  views: ViewRenderer;
  log: Logger;
}

const LINK = /https?:\/\/[^\s"'<>]+/g;

/**
 * Sends through SMTP (nodemailer) in production. In the embedded default, with no mail server,
 * each message becomes an .eml file in the data directory's outbox and its links go to the log,
 * so every flow (verify, reset) can be tried at once. Those links are secrets: outbox mode is
 * for a single developer machine, and the boot log says that mail is not being sent.
 */
export function createMailer(options: MailerOptions): Mailer {
  const outbox = !options.smtpUrl;
  // nodemailer is loaded with the first mail, not at boot: about 14 MB of resident memory
  // that a process sending no mail never needs (docs/benchmarks.md, "Memory").
  let transport: Promise<Transporter> | undefined;
  const transporter = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      outbox
        ? nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
        : nodemailer.createTransport(options.smtpUrl),
    ));
  if (outbox) mkdirSync(options.outboxDir, { recursive: true, mode: 0o700 });
  return {
    kind: outbox ? 'outbox' : 'smtp',
    async send(mail) {
      const locals = { ...mail.locals, i18n: mail.i18n };
      const [text, html] = await Promise.all([
        options.views.renderPart(`email/${mail.template}.text.ejs`, locals),
        options.views.renderPart(`email/${mail.template}.html.ejs`, locals),
      ]);
      const subject = mail.i18n.t(mail.subjectKey, mail.locals as Record<string, string>);
      const info = (await (await transporter()).sendMail({ from: options.from, to: mail.to, subject, text, html })) as {
        message?: Buffer;
      };
      if (outbox && info.message) {
        const file = join(options.outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`);
        writeFileSync(file, info.message, { mode: 0o600 });
        options.log.info(
          { file, template: mail.template, links: text.match(LINK) ?? [] },
          'mail written to the outbox (no SMTP_URL set)',
        );
      }
    },
    close: () => {
      void transport?.then(
        (t) => t.close(),
        () => undefined,
      );
    },
  };
}

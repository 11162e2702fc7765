import type { Mailer } from '../mail/mailer.js';
import type { Translator } from '../i18n/translator.js';
import type { OutgoingMessage, Transport } from './message.js';

/** Codes and sign-in links by mail: the existing mailer (SMTP, or the outbox in the embedded default). */
export function createMailTransport(deps: {
  mailer: Mailer;
  translatorFor: (locale: string) => Translator;
  productName: string;
}): Transport {
  return {
    name: 'mail',
    async send(message: OutgoingMessage) {
      await deps.mailer.send({
        to: message.to,
        template: 'one-time-code',
        subjectKey: `codes.email.${message.kind}.subject`,
        i18n: deps.translatorFor(message.locale),
        locals: {
          productName: deps.productName,
          kind: message.kind,
          code: message.code ?? '',
          link: message.link ?? '',
          minutes: message.validMinutes,
        },
      });
    },
  };
}

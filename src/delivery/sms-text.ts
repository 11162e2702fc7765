import type { Translator } from '../i18n/translator.js';
import type { CodeMessage } from './message.js';

/**
 * GSM 03.38's basic alphabet (7-bit). A text of these alone fits 160 characters in one SMS;
 * one character outside it (and outside the extension table) makes the whole text UCS-2, 70
 * characters a segment.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** The extension table: each costs two septets (an escape and itself). */
const GSM_EXTENDED = '^{}\\[~]|€';

/** How many septets (GSM-7) or UTF-16 units (UCS-2) a text takes, and in which encoding. */
export function smsLength(text: string): { encoding: 'gsm7' | 'ucs2'; units: number; segments: number } {
  let septets = 0;
  for (const char of text) {
    if (GSM_BASIC.includes(char)) septets += 1;
    else if (GSM_EXTENDED.includes(char)) septets += 2;
    else {
      const units = text.length;
      return { encoding: 'ucs2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'gsm7', units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

/**
 * The SMS text of a code, in the recipient's language, ending in the origin-bound line of the
 * WebOTP convention (`@host #code`, https://wicg.github.io/sms-one-time-codes/) so a phone can
 * offer the code to the page of this host alone. The host is the issuer's host name (the
 * format has no port). When the product name makes the text longer than one segment, the
 * short text is sent instead: a second segment costs twice and may arrive out of order.
 */
export function smsText(
  message: Pick<CodeMessage, 'kind' | 'code' | 'validMinutes'>,
  i18n: Translator,
  context: { host: string; productName: string },
): string {
  const params = {
    code: message.code ?? '',
    minutes: message.validMinutes,
    host: context.host,
    productName: context.productName,
  };
  const full = i18n.t(`codes.sms.${message.kind}`, params);
  return smsLength(full).segments === 1 ? full : i18n.t('codes.sms.short', params);
}

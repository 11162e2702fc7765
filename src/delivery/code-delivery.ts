import type { Logger } from 'pino';
import type { AuditLog } from '../security/audit.js';
import type { Metrics } from '../observability/metrics.js';
import type { Translator } from '../i18n/translator.js';
import { SIGN_IN_LINK_PATH, type CodeMessage, type OutgoingMessage, type Transport } from './message.js';
import { smsText } from './sms-text.js';

export interface CodeDelivery {
  /** Hands a message to its channel's transport in the background; never throws. */
  deliver(message: CodeMessage): void;
  /** Resolves when every delivery started so far has ended (tests, shutdown). */
  settled(): Promise<void>;
  /** Which transport each channel uses (the boot banner). */
  readonly transports: { email: Transport['name']; sms: Transport['name'] };
}

/** `a***@example.com`, `+49******67`: enough for an operator to tell messages apart, not to harvest. */
export function maskRecipient(to: string): string {
  const at = to.lastIndexOf('@');
  if (at >= 0) return `${to.slice(0, Math.min(1, at))}***${to.slice(at)}`;
  return to.length > 5 ? `${to.slice(0, 3)}${'*'.repeat(to.length - 5)}${to.slice(-2)}` : '***';
}

/**
 * Writes the text of each code message (SMS: one segment, the WebOTP line; mail: the link)
 * and hands it to the transport of its channel, in the background: the page that asked has
 * answered already, the same whether the message goes out, fails, or was never sent (no
 * account). A failure is logged (kind, channel, transport, masked recipient and the error;
 * never the code, text, link or a secret), counted in gatehouse_code_deliveries_total and
 * audited as code.delivery_failed; the person can ask again.
 */
export function createCodeDelivery(deps: {
  email: Transport;
  sms: Transport;
  translatorFor: (locale: string) => Translator;
  issuer: string;
  productName: string;
  log: Logger;
  metrics: Metrics;
  audit: AuditLog;
}): CodeDelivery {
  const inFlight = new Set<Promise<void>>();
  const host = new URL(deps.issuer).hostname;

  function compose(message: CodeMessage): OutgoingMessage {
    const i18n = deps.translatorFor(message.locale);
    if (message.channel === 'sms') {
      return { ...message, text: smsText(message, i18n, { host, productName: deps.productName }) };
    }
    let link: string | undefined;
    if (message.linkToken) {
      // Appended to the issuer, not resolved against it: a path prefix stays in the link.
      const url = new URL(`${deps.issuer}${SIGN_IN_LINK_PATH}`);
      url.searchParams.set('token', message.linkToken);
      url.searchParams.set('ui_locales', i18n.locale);
      link = url.toString();
    }
    return { ...message, text: i18n.t(`codes.email.${message.kind}.subject`, { productName: deps.productName }), link };
  }

  async function run(message: CodeMessage): Promise<void> {
    const transport = message.channel === 'sms' ? deps.sms : deps.email;
    const labels = { channel: message.channel, transport: transport.name };
    try {
      await transport.send(compose(message));
      deps.metrics.codeDeliveries.inc({ ...labels, result: 'sent' });
    } catch (error) {
      deps.metrics.codeDeliveries.inc({ ...labels, result: 'failed' });
      const reason = error instanceof Error ? error.message : 'unknown error';
      deps.log.error(
        { kind: message.kind, ...labels, to: maskRecipient(message.to), error: reason },
        'code could not be delivered',
      );
      await deps.audit
        .record('code.delivery_failed', {
          subjectId: message.userId,
          details: { kind: message.kind, ...labels, error: reason },
        })
        .catch((auditError: unknown) => deps.log.error({ err: auditError }, 'delivery failure not audited'));
    }
  }

  return {
    transports: { email: deps.email.name, sms: deps.sms.name },
    deliver(message) {
      const running = run(message).finally(() => inFlight.delete(running));
      inFlight.add(running);
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

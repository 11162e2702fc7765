import type { KoaContextWithOIDC } from 'oidc-provider';
import type { DevicePages } from '../../oidc/features/flows.js';
import type { ViewRenderer } from '../../http/views.js';
import type { Translator } from '../../i18n/translator.js';

/**
 * Why the code page is shown again: oidc-provider throws these (lib/helpers/re_render_errors.js)
 * and hands them to userCodeInputSource; each is a catalogue message (views/locales/<lang>/device.json).
 */
const PROBLEMS: Readonly<Record<string, string>> = {
  NoCodeError: 'device.problem.noCode',
  NotFoundError: 'device.problem.notFound',
  ExpiredError: 'device.problem.expired',
  AlreadyUsedError: 'device.problem.alreadyUsed',
  AbortedError: 'device.problem.aborted',
};

/** The form's anti-forgery value: oidc-provider keeps it in the session and checks it on POST. */
const xsrfOf = (ctx: KoaContextWithOIDC): string =>
  String((ctx.oidc.session?.state as { secret?: unknown } | undefined)?.secret ?? '');

/**
 * The pages of the device flow at /device (RFC 8628 §3.3), which oidc-provider serves and asks
 * us to render: enter the code, confirm the application asking (and that the code is the one
 * the device shows, §5.4 remote phishing), done. Each form posts the provider's own fields
 * (xsrf, user_code, confirm, abort) to its own URL. The sign-in in between is our interaction.
 */
export function devicePages(views: ViewRenderer, english: Translator): DevicePages {
  const i18nOf = (ctx: KoaContextWithOIDC): Translator => (ctx.state as { i18n?: Translator }).i18n ?? english;
  return {
    async userCodeInputSource(ctx, _form, out, err) {
      const i18n = i18nOf(ctx);
      const known = err ? PROBLEMS[err.name] : undefined;
      const problem = known ? i18n.t(known) : out ? i18n.t('device.problem.refused') : undefined;
      ctx.type = 'html';
      ctx.body = await views.render('device/enter-code', {
        title: i18n.t('device.title'),
        i18n,
        xsrf: xsrfOf(ctx),
        userCode: (err as { userCode?: unknown } | undefined)?.userCode ?? '',
        problem,
        aborted: err?.name === 'AbortedError',
      });
    },
    async userCodeConfirmSource(ctx, _form, client, _deviceInfo, userCode) {
      const i18n = i18nOf(ctx);
      const params = (ctx.oidc.entities.DeviceCode?.params ?? {}) as { scope?: unknown };
      const scopes = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [];
      ctx.type = 'html';
      ctx.body = await views.render('device/confirm', {
        title: i18n.t('device.title'),
        i18n,
        xsrf: xsrfOf(ctx),
        userCode,
        clientName: client.clientName ?? client.clientId,
        scopes: scopes.map((name) => ({ name, description: i18n.find(`scopes.${name}`) ?? name })),
      });
    },
    async successSource(ctx) {
      const i18n = i18nOf(ctx);
      ctx.type = 'html';
      ctx.body = await views.render('device/done', {
        title: i18n.t('device.doneTitle'),
        i18n,
        clientName: ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId,
      });
    },
  };
}

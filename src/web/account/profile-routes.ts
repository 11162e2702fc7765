import type Router from '@koa/router';
import { z } from 'zod';
import type { FormGuard, WithForm } from '../kit/form.js';
import { keyedText, optionalText } from '../kit/form-fields.js';
import { localizedFormError } from '../kit/form-errors.js';
import { translatorOf } from '../../http/localize.js';
import { underBase } from '../../http/base-path.js';
import type { Profile, ProfileChanges } from '../../accounts/profile.js';
import type { PortalDeps, WithPortalContext } from './context.js';
import { accountOrigin } from './account-client.js';

/** Every field of the form; an empty one clears its claim (accounts/profile.ts checks each). */
const profileForm = z.object({
  given_name: optionalText({ trim: true }),
  family_name: optionalText({ trim: true }),
  preferred_username: optionalText({ trim: true }),
  picture: optionalText({ trim: true }),
  locale: optionalText({ trim: true }),
  zoneinfo: optionalText({ trim: true }),
  birthdate: optionalText({ trim: true }),
  street_address: optionalText({ trim: true }),
  locality: optionalText({ trim: true }),
  region: optionalText({ trim: true }),
  postal_code: optionalText({ trim: true }),
  country: optionalText({ trim: true }),
  // The custom attributes the user may edit, as `attributes[<name>]` (accounts/attribute-schema.ts reads each).
  attributes: keyedText(),
});
type ProfileForm = z.output<typeof profileForm>;

function changesOf(form: Omit<ProfileForm, 'attributes'>): ProfileChanges {
  const value = (v: string | undefined) => v ?? null;
  return {
    given_name: value(form.given_name),
    family_name: value(form.family_name),
    preferred_username: value(form.preferred_username),
    picture: value(form.picture),
    locale: value(form.locale),
    zoneinfo: value(form.zoneinfo),
    birthdate: value(form.birthdate),
    address: {
      street_address: value(form.street_address),
      locality: value(form.locality),
      region: value(form.region),
      postal_code: value(form.postal_code),
      country: value(form.country),
    },
  };
}

/** The form's values from a stored profile (the address flattened). */
function formOf(profile: Profile): Record<string, string> {
  const { address, ...rest } = profile;
  return { ...rest, ...address } as Record<string, string>;
}

/** A custom attribute on the form: its definition, and its value as the field shows it. */
interface AttributeField {
  name: string;
  label: string;
  type: string;
  required: boolean;
  /** False: shown, not editable (only admins change it). */
  editable: boolean;
  value: string;
}

export interface ProfileSection {
  profile: Record<string, string>;
  attributes: AttributeField[];
  profileNotice?: string;
}

/** The fields of the custom attributes, with `typed` (what the user posted) over the stored values. */
async function attributeFields(
  deps: Pick<PortalDeps, 'attributes'>,
  userId: string,
  typed: Record<string, string> = {},
): Promise<AttributeField[]> {
  const { definitions, values } = await deps.attributes.of(userId);
  return definitions.map((d) => ({
    name: d.name,
    label: d.label,
    type: d.type,
    required: d.required,
    editable: d.editableBy === 'user',
    value: d.editableBy === 'user' && d.name in typed ? (typed[d.name] ?? '') : String(values[d.name] ?? ''),
  }));
}

/** The profile section of the account page (router.ts spreads it into the page's locals). */
export async function loadProfileSection(
  deps: Pick<PortalDeps, 'profiles' | 'attributes'>,
  ctx: WithPortalContext,
): Promise<ProfileSection> {
  const { userId } = ctx.state.portal;
  const profile = formOf(await deps.profiles.get(userId));
  return {
    profile,
    attributes: await attributeFields(deps, userId),
    profileNotice: ctx.query.done === 'profile-saved' ? 'profile.saved' : undefined,
  };
}

/**
 * POST /account/profile: the user's standard claims (OIDC Core §5.1), released to applications
 * under the profile and address scopes. A refused value shows the form again with the message
 * beside its field (400); a saved one returns to the page (303).
 */
export function addProfileRoutes(router: Router, deps: PortalDeps, tools: { change: FormGuard }): void {
  router.post(
    '/profile',
    ...tools.change(profileForm),
    async (ctx: WithPortalContext & WithForm<typeof profileForm>) => {
      const i18n = translatorOf(ctx);
      const { userId } = ctx.state.portal;
      const { attributes: typed, ...form } = ctx.state.form;
      const editor = { kind: 'self' as const, origin: accountOrigin(ctx) };
      try {
        // The attributes first: both are checked before either is saved (the profile's own
        // check runs in its update, which comes only when the attributes passed).
        await deps.attributes.set(userId, typed, editor, 'form');
        await deps.profiles.update(userId, changesOf(form), editor);
      } catch (error) {
        const refused = localizedFormError(error, i18n, PROFILE_MESSAGES, 'profile.errors.invalid');
        if (!refused) throw error;
        const field = refused.field.replace(/^address\./, '');
        // An attribute's field on the form is `attributes[<name>]`; the refusal names the attribute.
        const attributes = await attributeFields(deps, userId, typed);
        const isAttribute = attributes.some((a) => a.name === field) || field in typed;
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = await deps.views.render('account/profile', {
          title: i18n.t('profile.title'),
          i18n,
          portal: ctx.state.portal,
          profile: { ...form },
          attributes,
          errors: { [isAttribute ? `attributes.${field}` : field]: refused.message },
        });
        return;
      }
      ctx.status = 303;
      ctx.redirect(underBase(ctx, '/account?done=profile-saved#profile'));
    },
  );
}

/** A refused field's message in the user's language. */
const PROFILE_MESSAGES: Record<string, string> = {
  given_name: 'profile.errors.text',
  family_name: 'profile.errors.text',
  preferred_username: 'profile.errors.username',
  picture: 'profile.errors.picture',
  locale: 'profile.errors.locale',
  zoneinfo: 'profile.errors.zoneinfo',
  birthdate: 'profile.errors.birthdate',
};

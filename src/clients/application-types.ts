import { InvalidInputError } from '../errors/domain-errors.js';
import { DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT } from './client-flows.js';
import type { ClientInput } from './client-registry.js';

/**
 * The kinds of application an admin starts a new client from (issue 21, "Registering an
 * application"). A type is a preset and a set of rules at creation: it fills in the grant types,
 * public or confidential, the token endpoint auth method and the scopes, and refuses input that
 * contradicts the kind of application (a single-page app with a secret, a machine client with
 * redirect URIs). It is not stored: the client's metadata stays the one truth, and a later edit
 * of the full form is free (docs/decisions.md, "Application types").
 */
export const APPLICATION_TYPES = ['spa', 'web', 'native', 'm2m', 'device'] as const;
export type ApplicationType = (typeof APPLICATION_TYPES)[number];

export function isApplicationType(value: string): value is ApplicationType {
  return (APPLICATION_TYPES as readonly string[]).includes(value);
}

interface ApplicationTypeRules {
  /** What the console's chooser calls it, and one line on what it is. */
  label: string;
  summary: string;
  /** How a refusal names it: "a single-page app …". */
  noun: string;
  /** What the preset fills in. */
  preset: Pick<ClientInput, 'public' | 'grantTypes' | 'scope' | 'authMethod'>;
  /** The auth methods the kind of application may use. */
  authMethods: readonly string[];
  /** The grant types it may hold, and the one it must. */
  grantTypes: readonly string[];
  requiredGrant: string;
  /** Whether it signs people in through a browser redirect (redirect URIs needed), or never (none allowed). */
  redirects: boolean;
  /** Why an auth method outside `authMethods` is wrong for it. */
  authMethodRule: string;
}

const SIGN_IN_GRANTS = ['authorization_code', 'refresh_token'] as const;
const SECRET_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

const RULES: Record<ApplicationType, ApplicationTypeRules> = {
  spa: {
    noun: 'single-page app',
    label: 'Single-page app',
    summary:
      'JavaScript in the browser (React, Angular, Vue…): a public client with authorization code + PKCE and no secret.',
    preset: { public: true, authMethod: 'none', grantTypes: ['authorization_code'], scope: 'openid profile email' },
    authMethods: ['none'],
    grantTypes: SIGN_IN_GRANTS,
    requiredGrant: 'authorization_code',
    redirects: true,
    authMethodRule:
      'a single-page app runs in the browser and cannot keep a secret: it authenticates with "none" (PKCE)',
  },
  web: {
    noun: 'traditional web app',
    label: 'Traditional web app',
    summary:
      'Server-rendered (Express, Django, Spring, ASP.NET, Apache…): a confidential client whose server keeps a secret.',
    preset: {
      public: false,
      authMethod: 'client_secret_basic',
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
    },
    authMethods: SECRET_METHODS,
    grantTypes: SIGN_IN_GRANTS,
    requiredGrant: 'authorization_code',
    redirects: true,
    authMethodRule: 'a traditional web app authenticates to the token endpoint with its secret or its own keys',
  },
  native: {
    noun: 'native app',
    label: 'Native or command-line app',
    summary:
      'Desktop, mobile or CLI (RFC 8252): a public client that receives the code on a loopback or claimed https redirect URI.',
    preset: {
      public: true,
      authMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
    },
    authMethods: ['none'],
    grantTypes: SIGN_IN_GRANTS,
    requiredGrant: 'authorization_code',
    redirects: true,
    authMethodRule:
      'a native app is installed on devices people control and cannot keep a secret: it authenticates with "none" (PKCE)',
  },
  m2m: {
    noun: 'machine-to-machine client',
    label: 'Machine-to-machine',
    summary: 'A service calling an API with its own credentials (client_credentials): no user, no redirect.',
    preset: { public: false, authMethod: 'client_secret_basic', grantTypes: ['client_credentials'], scope: 'openid' },
    authMethods: SECRET_METHODS,
    grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT],
    requiredGrant: 'client_credentials',
    redirects: false,
    authMethodRule: 'a machine-to-machine client proves who it is with a secret or its own keys',
  },
  device: {
    noun: 'device client',
    label: 'Device (TV, console, CLI without a browser)',
    summary: 'Input-constrained devices (RFC 8628): the user enters a short code on another screen; a public client.',
    preset: {
      public: true,
      authMethod: 'none',
      grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
      scope: 'openid profile email offline_access',
    },
    authMethods: ['none', ...SECRET_METHODS],
    grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
    requiredGrant: DEVICE_CODE_GRANT,
    redirects: false,
    authMethodRule: 'a device client authenticates with "none" when public, or with a secret or its own keys',
  },
};

/** The chooser's entries, in order. */
export const applicationTypeChoices = (): Array<{ type: ApplicationType; label: string; summary: string }> =>
  APPLICATION_TYPES.map((type) => ({ type, label: RULES[type].label, summary: RULES[type].summary }));

/** Whether the type's clients need redirect URIs (the console's short form shows the field only then). */
export const usesRedirects = (type: ApplicationType): boolean => RULES[type].redirects;

/** The type's preset alone, for the full form's starting values. */
export function applicationTypePreset(
  type: ApplicationType,
): Pick<ClientInput, 'public' | 'grantTypes' | 'scope' | 'authMethod'> {
  const { preset } = RULES[type];
  return { ...preset, grantTypes: [...preset.grantTypes] };
}

/**
 * A new client of this type: the preset, with what the admin gave on top, checked against the
 * type's rules (each refusal names its field, as the admin API spells it). The client's generic
 * rules (client-registry.ts: https or loopback redirect URIs, known scopes…) follow at creation.
 */
export function applicationTypeInput(
  type: ApplicationType,
  given: Partial<ClientInput> & Pick<ClientInput, 'name'>,
): ClientInput {
  const rules = RULES[type];
  const input: ClientInput = {
    redirectUris: [],
    postLogoutRedirectUris: [],
    firstParty: false,
    ...applicationTypePreset(type),
    ...given,
  };
  // `public: true` alone means "none", as on the full form.
  if (given.public === true && given.authMethod === undefined) input.authMethod = 'none';
  if (given.public === false && given.authMethod === undefined && input.authMethod === 'none')
    input.authMethod = 'client_secret_basic';
  const authMethod = input.authMethod ?? (input.public ? 'none' : 'client_secret_basic');
  if (!rules.authMethods.includes(authMethod) || input.public !== (authMethod === 'none'))
    throw new InvalidInputError('token_endpoint_auth_method', rules.authMethodRule);
  const stranger = input.grantTypes.find((g) => !rules.grantTypes.includes(g));
  if (stranger !== undefined)
    throw new InvalidInputError(
      'grant_types',
      `a ${rules.noun} uses ${rules.grantTypes.join(' or ')}, not ${stranger}`,
    );
  if (!input.grantTypes.includes(rules.requiredGrant))
    throw new InvalidInputError('grant_types', `a ${rules.noun} needs ${rules.requiredGrant}`);
  if (rules.redirects && input.redirectUris.length === 0)
    throw new InvalidInputError(
      'redirect_uris',
      'at least one is needed: where Gatehouse sends people back to the app',
    );
  if (!rules.redirects && input.redirectUris.length > 0)
    throw new InvalidInputError(
      'redirect_uris',
      `a ${rules.noun} signs no one in through a browser redirect: it has no redirect URIs`,
    );
  if (!rules.redirects && input.postLogoutRedirectUris.length > 0)
    throw new InvalidInputError('post_logout_redirect_uris', 'only a client with redirect URIs has post-logout ones');
  return input;
}

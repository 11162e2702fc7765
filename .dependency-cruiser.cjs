// The layering of docs/architecture.md, checked on every `npm run lint` (issue 16):
// surfaces → domain → storage; siblings among the surfaces never import each other;
// oidc/ never imports a surface; storage/ imports no domain; config/ and errors/ import nothing of ours;
// the domain imports neither admin/ nor oidc/ nor http/.
// Type-only imports count too (tsPreCompilationDeps): a layer that needs another's types
// depends on it all the same.
// The web surfaces are grouped by URL under web/ (interaction/, account/, email/, password/,
// admin/); web/kit/ is what they share (forms, CSRF, field messages), below them all.
const SURFACES = 'web/(?!kit/)[^/]+|admin/api|cli';
// Every surface folder with what they share: nothing below the surfaces imports any of it.
const WEB_AND_SURFACES = 'web|admin/api|cli';
// The domain: rules without HTTP. It may import storage/, security/, config/ and errors/ (the
// domain errors every layer throws); surfaces and oidc/ import it.
// codes/ (issue 18) is the domain of one-time codes and sign-in links by email and SMS; it sends
// through a port of its own (codes/code-sender.ts), which delivery/ fills.
const DOMAIN = 'accounts|clients|roles|federation|codes|permissions';
// Infrastructure beside mail/: delivery/ is how codes go out (mail, the SMS outbox, a signed
// webhook, Twilio). It knows no domain; services.ts joins it to the domain's port.
const INFRASTRUCTURE = 'http|mail|delivery|observability|i18n';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles (type-only imports included): a cycle means two modules are one.',
      from: { path: '^(src|migrations)/' },
      to: { circular: true },
    },
    {
      name: 'storage-imports-no-domain',
      severity: 'error',
      comment:
        'storage/ (and the migrations it runs) is SQL only: it imports no domain, provider glue, surface or HTTP code.',
      from: { path: '^(src/storage|migrations)/' },
      to: {
        path: `^src/((${DOMAIN}|admin|oidc|http|mail|delivery|${WEB_AND_SURFACES})/|(app|gatehouse|main|services)\\.ts$)`,
      },
    },
    {
      name: 'oidc-imports-no-surface',
      severity: 'error',
      comment: 'oidc/ is provider glue: it never imports a surface (pages, the admin API or console, the CLI).',
      from: { path: '^src/oidc/' },
      to: { path: `^src/(admin|${WEB_AND_SURFACES})/` },
    },
    {
      name: 'surfaces-import-no-sibling',
      severity: 'error',
      comment: 'A surface never imports another surface: what two share belongs in a lower layer.',
      from: { path: `^src/(${SURFACES})/` },
      to: { path: `^src/(${SURFACES})/`, pathNot: '^src/$1/' },
    },
    {
      name: 'lower-layers-import-no-surface',
      severity: 'error',
      comment: 'Dependencies point inward: domain, provider glue and infrastructure never import a surface.',
      from: { path: `^src/((${DOMAIN}|security|storage|${INFRASTRUCTURE}|config)/|admin/[^/]+\\.ts$)` },
      to: { path: `^src/(${WEB_AND_SURFACES})/` },
    },
    {
      name: 'domain-imports-no-admin-oidc-or-http',
      comment:
        'The domain (accounts, clients, roles) is below admin/, oidc/ and http/: what it shares with them (the admin actor, the admin scopes, the errors) lives in security/, clients/ or errors/.',
      severity: 'error',
      from: { path: `^src/(${DOMAIN})/` },
      to: { path: '^src/(admin|oidc|http|mail|delivery)/' },
    },
    {
      name: 'infrastructure-imports-no-domain',
      severity: 'error',
      comment:
        'delivery/ is infrastructure: it implements the domain port codes/code-sender.ts by shape, never by import (services.ts joins them).',
      from: { path: '^src/delivery/' },
      to: { path: `^src/(${DOMAIN}|admin|oidc)/` },
    },
    {
      name: 'errors-import-nothing',
      severity: 'error',
      comment:
        'errors/ is the one vocabulary of refusals, thrown from storage up to the surfaces: it imports nothing of ours.',
      from: { path: '^src/errors/' },
      to: { path: '^(src|migrations)/', pathNot: '^src/errors/' },
    },
    {
      name: 'config-imports-nothing',
      severity: 'error',
      comment: 'config/ is read first and by everyone: it imports no other folder of ours.',
      from: { path: '^src/config/' },
      to: { path: '^(src|migrations)/', pathNot: '^src/config/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};

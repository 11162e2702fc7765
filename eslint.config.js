// `npm run lint`, part one (part two is dependency-cruiser, .dependency-cruiser.cjs: cycles and
// the folder layering). typescript-eslint's recommended rules over every TypeScript file —
// source, migrations, tests, benchmarks — plus the project's own rules below (docs/decisions.md,
// "Lint and boundaries"). Not type-aware: see the decision for the timing that chose this.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      // STYLE: no `any` at a boundary or anywhere else; `unknown` and a check instead.
      '@typescript-eslint/no-explicit-any': 'error',
      // A leading underscore marks a parameter or a destructured member left out on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Our input checks match control characters on purpose: U+0000, which PostgreSQL cannot
      // store (storage/storable-text.ts), and C0 controls in ids, paths and header values.
      'no-control-regex': 'off',
      // A `let` read in a closure before its one assignment (a service built before the provider
      // it calls later) cannot be a const; the rule still flags every other never-reassigned let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Configuration is read once, validated, at boot (src/config/load.ts): code elsewhere takes
    // the validated Config, so no setting escapes the schema, its defaults and its error per bad key.
    files: ['src/**/*.ts'],
    ignores: [
      'src/config/**',
      // The two entry points hand the whole environment to the config loader (main.ts) or to
      // the CLI, which passes it on to the same loader (cli/main.ts); they read no key themselves.
      'src/main.ts',
      'src/cli/main.ts',
    ],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Read settings from the validated Config (src/config); only src/config, src/main.ts and src/cli/main.ts see process.env.',
        },
      ],
    },
  },
  {
    // Honest tests: every test runs, on every run.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'MemberExpression[object.name=/^(describe|it|test)$/][property.name=/^(only|skip|todo)$/]',
          message: 'No .only, .skip or .todo in committed tests: every test runs.',
        },
        {
          selector: 'CallExpression[callee.name=/^(fit|fdescribe|xit|xdescribe|xtest)$/]',
          message: 'No focused or disabled tests (fit, xit, …): every test runs.',
        },
      ],
    },
  },
);

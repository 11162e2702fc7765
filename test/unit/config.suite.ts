import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/schema.js';
import { relyingParty } from '../../src/accounts/webauthn.js';
import { issuerBasePath, issuerWarnings, passkeysAvailable } from '../../src/config/issuer.js';
import { configProblems } from '../helpers/config-problems.js';

const problemsOf = (env: Record<string, string>): string[] => configProblems(env);

describe('configuration', () => {
  it('loads the documented defaults', () => {
    const config = loadConfig({});
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000, trustedProxyHops: 0 });
    expect(config.passwords.argon2).toEqual({ memoryKiB: 19456, timeCost: 2, parallelism: 1 });
    expect(config.storage.databaseUrl).toBe('');
  });

  it('takes environment variables over the file', () => {
    const config = loadConfig({
      ISSUER: 'https://id.example.com',
      PORT: '8443',
      DATABASE_URL: 'postgres://db/gh',
      TRUSTED_PROXY_HOPS: '2',
    });
    expect(config.issuer).toBe('https://id.example.com');
    expect(config.http.port).toBe(8443);
    expect(config.http.trustedProxyHops).toBe(2);
    expect(config.storage.databaseUrl).toBe('postgres://db/gh');
  });

  it('follows PORT with the default issuer, and keeps an issuer that is set (issue 15, item 8)', () => {
    expect(loadConfig({ PORT: '4900' }).issuer).toBe('http://localhost:4900');
    expect(loadConfig({}, { http: { port: 4901 } }).issuer).toBe('http://localhost:4901');
    expect(loadConfig({ PORT: '4900', ISSUER: 'http://127.0.0.1:3000' }).issuer).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ PORT: '4900' }, { issuer: 'https://id.example.com' }).issuer).toBe('https://id.example.com');
    // Any free port: unknown before listening, so the default stays.
    expect(loadConfig({ PORT: '0' }).issuer).toBe('http://localhost:3000');
  });

  it('warns at boot of a loopback issuer on another port and of an IP-address issuer (no passkeys)', () => {
    expect(issuerWarnings(loadConfig({ PORT: '4900' }), 4900)).toEqual([]);
    expect(issuerWarnings(loadConfig({ ISSUER: 'https://id.example.com' }), 3000)).toEqual([]);
    expect(issuerWarnings(loadConfig({ ISSUER: 'http://localhost:3000' }), 4900)).toEqual([
      'ISSUER http://localhost:3000 names port 3000, but the server listens on 4900: discovery, redirects and /admin point at the other port; set ISSUER to http://localhost:4900 or unset it',
    ]);
    const ip = loadConfig({ ISSUER: 'http://127.0.0.1:4900', PORT: '4900' });
    expect(passkeysAvailable(ip)).toBe(false);
    expect(issuerWarnings(ip, 4900)).toEqual([
      'ISSUER http://127.0.0.1:4900 has an IP address as host: passkeys and security keys are unavailable (WebAuthn needs a domain); use localhost or a domain name',
    ]);
    expect(passkeysAvailable(loadConfig({ ISSUER: 'http://[::1]:3000' }))).toBe(false);
    expect(passkeysAvailable(loadConfig({ ISSUER: 'http://localhost:3000' }))).toBe(true);
  });

  it('takes the trusted proxy hops as a whole number from 0 to 10', () => {
    expect(loadConfig({ TRUSTED_PROXY_HOPS: '0' }).http.trustedProxyHops).toBe(0);
    expect(loadConfig({}, { http: { trustedProxyHops: 10 } }).http.trustedProxyHops).toBe(10);
    expect(problemsOf({ TRUSTED_PROXY_HOPS: 'true' })).toEqual(['TRUSTED_PROXY_HOPS: must be a whole number']);
    expect(problemsOf({ TRUSTED_PROXY_HOPS: '-1' })).toEqual(['TRUSTED_PROXY_HOPS: must be a whole number']);
    expect(problemsOf({ TRUSTED_PROXY_HOPS: '11' })).toEqual([
      'http.trustedProxyHops: must be at most 10 (count only the proxies in front that append to X-Forwarded-For)',
    ]);
  });

  it('reads the deprecated TRUST_PROXY as 1 or 0 hops, with a warning, and refuses it when it contradicts TRUSTED_PROXY_HOPS', () => {
    const read = (env: Record<string, string>, overrides: ConfigOverrides = {}) => {
      const warnings: string[] = [];
      const { trustedProxyHops } = loadConfig(env, overrides, (w) => warnings.push(w)).http;
      return { trustedProxyHops, warnings };
    };
    const deprecated = /^TRUST_PROXY \(http\.trustProxy\) is deprecated/;
    expect(read({ TRUST_PROXY: 'true' })).toEqual({
      trustedProxyHops: 1,
      warnings: [expect.stringMatching(deprecated)],
    });
    expect(read({ TRUST_PROXY: 'false' })).toEqual({
      trustedProxyHops: 0,
      warnings: [expect.stringMatching(deprecated)],
    });
    expect(read({})).toEqual({ trustedProxyHops: 0, warnings: [] });
    // Both say there is a proxy: the hop count wins, still with a warning.
    expect(read({ TRUST_PROXY: 'true', TRUSTED_PROXY_HOPS: '2' })).toEqual({
      trustedProxyHops: 2,
      warnings: [expect.stringMatching(deprecated)],
    });
    expect(read({ TRUST_PROXY: '0' }, { http: { trustedProxyHops: 0 } }).trustedProxyHops).toBe(0);
    expect(problemsOf({ TRUST_PROXY: 'true', TRUSTED_PROXY_HOPS: '0' })).toEqual([
      'http.trustProxy: TRUST_PROXY=true contradicts TRUSTED_PROXY_HOPS=0 (http.trustedProxyHops); remove TRUST_PROXY, which TRUSTED_PROXY_HOPS replaces',
    ]);
    expect(problemsOf({ TRUST_PROXY: 'false', TRUSTED_PROXY_HOPS: '1' })).toHaveLength(1);
    expect(problemsOf({ TRUST_PROXY: 'yes' })).toEqual(['TRUST_PROXY: must be true or false']);
  });

  it('reads a deprecated http.trustProxy in a settings file like TRUST_PROXY', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    try {
      const file = join(dir, 'settings.yaml');
      writeFileSync(file, 'http:\n  trustProxy: true\n');
      expect(loadConfig({ GATEHOUSE_CONFIG: file }).http.trustedProxyHops).toBe(1);
      expect(problemsOf({ GATEHOUSE_CONFIG: file, TRUSTED_PROXY_HOPS: '0' })).toHaveLength(1);
      writeFileSync(file, 'http:\n  trustProxy: 1\n');
      expect(problemsOf({ GATEHOUSE_CONFIG: file })).toEqual([
        'http.trustProxy: must be true or false (deprecated: set http.trustedProxyHops instead)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the renamed rateLimits.registrationIp in a settings file as signUpIp, with one warning, and refuses it beside a different signUpIp', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    try {
      const file = join(dir, 'settings.yaml');
      const read = (overrides: ConfigOverrides = {}) => {
        const warnings: string[] = [];
        const config = loadConfig({ GATEHOUSE_CONFIG: file }, overrides, (w) => warnings.push(w));
        return { signUpIp: config.rateLimits.signUpIp, keys: Object.keys(config.rateLimits), warnings };
      };
      writeFileSync(file, 'rateLimits:\n  registrationIp: { points: 4, durationSeconds: 600 }\n');
      const old = read();
      expect(old.signUpIp).toEqual({ points: 4, durationSeconds: 600 });
      expect(old.keys).not.toContain('registrationIp');
      expect(old.warnings).toEqual([
        'rateLimits.registrationIp is deprecated and read as rateLimits.signUpIp: rename the key in your settings file',
      ]);
      // A partial policy fills in from the default, as the old key did.
      writeFileSync(file, 'rateLimits:\n  registrationIp: { points: 4 }\n');
      expect(read().signUpIp).toEqual({ points: 4, durationSeconds: 3600 });
      // Both set: the same value boots (the new key applies), a different one is one boot error line.
      writeFileSync(
        file,
        'rateLimits:\n  registrationIp: { points: 4, durationSeconds: 600 }\n  signUpIp: { points: 4, durationSeconds: 600 }\n',
      );
      expect(read()).toEqual({
        signUpIp: { points: 4, durationSeconds: 600 },
        keys: expect.not.arrayContaining(['registrationIp']) as unknown,
        warnings: [expect.stringMatching(/^rateLimits\.registrationIp is deprecated and ignored/)],
      });
      expect(
        configProblems({ GATEHOUSE_CONFIG: file }, { rateLimits: { signUpIp: { points: 5, durationSeconds: 600 } } }),
      ).toEqual([
        'rateLimits.registrationIp: contradicts rateLimits.signUpIp, which replaces it; remove rateLimits.registrationIp',
      ]);
      // The old key's value is validated like the new one's, under the name that applies.
      writeFileSync(file, 'rateLimits:\n  registrationIp: { points: 0, durationSeconds: 600 }\n');
      expect(problemsOf({ GATEHOUSE_CONFIG: file })).toEqual([
        expect.stringMatching(/^rateLimits\.signUpIp\.points: /),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every bad key on its own line', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      ISSUER: 'http://id.example.com',
      DATABASE_URL: 'mysql://x',
      KEY_ENCRYPTION_SECRET: 'c2hvcnQ=',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'PORT: must be a whole number',
        'issuer: must use https unless it is a loopback address',
        'storage.databaseUrl: must be a postgres:// URL or empty',
        'keys.encryptionSecret: must be 32 bytes, base64-encoded',
      ]),
    );
  });

  it('takes a Redis key prefix from REDIS_KEY_PREFIX and refuses one that could run into other keys', () => {
    expect(loadConfig({}).storage.redisKeyPrefix).toBe('gatehouse:');
    expect(loadConfig({ REDIS_KEY_PREFIX: 'gh-staging:' }).storage.redisKeyPrefix).toBe('gh-staging:');
    const refusal = 'storage.redisKeyPrefix: must be 1-64 letters, digits, ".", "_" or "-", ending in ":"';
    expect(problemsOf({ REDIS_KEY_PREFIX: 'staging' })).toContain(refusal);
    expect(problemsOf({ REDIS_KEY_PREFIX: 'a b:' })).toContain(refusal);
    expect(problemsOf({ REDIS_KEY_PREFIX: '' })).toContain(refusal);
  });

  it('takes an issuer with a path prefix, and refuses one with a trailing slash, query, fragment or odd segments', () => {
    expect(loadConfig({ ISSUER: 'https://id.example.com/auth' }).issuer).toBe('https://id.example.com/auth');
    expect(issuerBasePath(loadConfig({ ISSUER: 'https://id.example.com/auth' }).issuer)).toBe('/auth');
    expect(issuerBasePath(loadConfig({ ISSUER: 'https://example.com/idp/v1.0_a~b-c' }).issuer)).toBe('/idp/v1.0_a~b-c');
    expect(issuerBasePath(loadConfig({ ISSUER: 'https://id.example.com' }).issuer)).toBe('');
    const shape = 'issuer: must be an origin or origin/path without a trailing slash, query or fragment';
    for (const bad of [
      'https://x.example/id/',
      'https://x.example/',
      'https://x.example/id?a=1',
      'https://x.example/id#f',
      'https://x.example/id?',
      'https://x.example/id#',
    ]) {
      expect({ bad, problems: problemsOf({ ISSUER: bad }) }).toEqual({
        bad,
        problems: expect.arrayContaining([shape]),
      });
    }
    const segments =
      'issuer: must have a path of plain segments (letters, digits, "-", ".", "_", "~"), as in https://id.example.com/auth';
    for (const bad of [
      'https://x.example/a//b',
      'https://x.example/a/../b',
      'https://x.example/./a',
      'https://x.example/a%20b',
      'https://x.example/a b',
      'https://x.example/a;b',
      'https://x.example/a/..',
    ]) {
      expect({ bad, problems: problemsOf({ ISSUER: bad }) }).toEqual({
        bad,
        problems: expect.arrayContaining([segments]),
      });
    }
    expect(problemsOf({ ISSUER: 'http://id.example.com/auth' })).toContain(
      'issuer: must use https unless it is a loopback address',
    );
  });

  it('refuses unknown keys in an override file', () => {
    expect(() => loadConfig({}, { http: { nonsense: 1 } as never })).toThrow(/Unrecognized key/);
  });

  it('takes the WebAuthn RP ID and origins from the issuer unless set, and refuses ones the issuer cannot use', () => {
    const webauthn = { rpName: 'Gatehouse', challengeTtlSeconds: 300 };
    expect(relyingParty(loadConfig({ ISSUER: 'https://id.example.com' }))).toEqual({
      id: 'id.example.com',
      name: 'Gatehouse',
      origins: ['https://id.example.com'],
    });
    const parent = loadConfig(
      { ISSUER: 'https://id.example.com' },
      {
        webauthn: { ...webauthn, rpId: 'example.com', origins: ['https://id.example.com', 'https://app.example.com'] },
      },
    );
    expect(relyingParty(parent)).toMatchObject({
      id: 'example.com',
      origins: ['https://id.example.com', 'https://app.example.com'],
    });
    const problems = (overrides: Record<string, unknown>) => {
      try {
        loadConfig(
          { ISSUER: 'https://id.example.com' },
          { webauthn: { ...webauthn, rpId: '', origins: [], ...overrides } },
        );
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return [];
    };
    expect(problems({ rpId: 'other.example' })).toEqual([
      "webauthn.rpId: must be the issuer's host name (id.example.com) or a parent domain of it",
    ]);
    expect(problems({ rpId: 'ample.com' })).toHaveLength(1);
    expect(problems({ origins: ['https://evil.example'] })).toEqual([
      'webauthn.origins.0: must be on id.example.com or one of its subdomains',
    ]);
  });
});

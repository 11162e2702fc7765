import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { checkImportedHash, verifyLegacyPassword } from '../../src/accounts/legacy-passwords.js';
import { createPasswordHasher } from '../../src/accounts/passwords.js';

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
const django = (password: string, salt: string, iterations: number) =>
  `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64')}`;
const scryptPhc = (password: string, salt: Buffer, ln: number, r: number, p: number, length = 32) =>
  `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(scryptSync(password, salt, length, { N: 2 ** ln, r, p }))}`;

describe('imported password hashes', () => {
  describe('bcrypt', () => {
    it('verifies the published "U*U" vector (OpenBSD / Openwall test set)', async () => {
      const hash = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';
      expect(checkImportedHash(hash)).toEqual({ ok: true, scheme: 'bcrypt' });
      expect(await verifyLegacyPassword(hash, 'U*U')).toBe(true);
      expect(await verifyLegacyPassword(hash, 'U*V')).toBe(false);
    });

    it.each(['$2a$', '$2b$', '$2y$'])('verifies a %s hash computed here', async (prefix) => {
      const hash = prefix + bcrypt.hashSync('correct horse', 4).slice(4);
      expect(checkImportedHash(hash)).toEqual({ ok: true, scheme: 'bcrypt' });
      expect(await verifyLegacyPassword(hash, 'correct horse')).toBe(true);
      expect(await verifyLegacyPassword(hash, 'correct horsE')).toBe(false);
    });
  });

  describe('Django pbkdf2_sha256', () => {
    it('verifies the RFC 7914 §11 PBKDF2-HMAC-SHA256 vector in Django form', async () => {
      // P="passwd", S="salt", c=1: the first 32 bytes of the published 64-byte output.
      const key = Buffer.from('55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc', 'hex');
      const hash = `pbkdf2_sha256$1$salt$${key.toString('base64')}`;
      expect(checkImportedHash(hash)).toEqual({ ok: true, scheme: 'pbkdf2_sha256' });
      expect(await verifyLegacyPassword(hash, 'passwd')).toBe(true);
      expect(await verifyLegacyPassword(hash, 'passwe')).toBe(false);
    });

    it('verifies a hash computed here with a Django-style salt', async () => {
      const hash = django('lètmein', 'seasalt2XyZ', 10_000);
      expect(await verifyLegacyPassword(hash, 'lètmein')).toBe(true);
      expect(await verifyLegacyPassword(hash, 'letmein')).toBe(false);
      expect(await verifyLegacyPassword(hash.replace('$10000$', '$10001$'), 'lètmein')).toBe(false);
    });
  });

  describe('scrypt PHC', () => {
    it('verifies the RFC 7914 §12 vector (N=1024, r=8, p=16) in PHC form', async () => {
      const key = Buffer.from(
        'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
        'hex',
      );
      const hash = `$scrypt$ln=10,r=8,p=16$${b64(Buffer.from('NaCl'))}$${b64(key)}`;
      expect(checkImportedHash(hash)).toEqual({ ok: true, scheme: 'scrypt' });
      expect(await verifyLegacyPassword(hash, 'password')).toBe(true);
      expect(await verifyLegacyPassword(hash, 'Password')).toBe(false);
    });

    it('verifies a hash computed here, also in passlib\'s "." alphabet', async () => {
      let hash = scryptPhc('pa55 word', randomBytes(16), 14, 8, 1);
      while (!/[+]/.test(hash)) hash = scryptPhc('pa55 word', randomBytes(16), 14, 8, 1);
      expect(await verifyLegacyPassword(hash, 'pa55 word')).toBe(true);
      expect(await verifyLegacyPassword(hash.replaceAll('+', '.'), 'pa55 word')).toBe(true);
      expect(await verifyLegacyPassword(hash, 'pa55 wore')).toBe(false);
    });
  });

  describe('argon2 PHC', () => {
    it.each([
      ['argon2i', argon2.argon2i],
      ['argon2id', argon2.argon2id],
    ] as const)('verifies %s', async (scheme, type) => {
      const hash = await argon2.hash('argon pass', {
        type: type as 1 | 2,
        memoryCost: 8192,
        timeCost: 2,
        parallelism: 1,
      });
      expect(checkImportedHash(hash)).toEqual({ ok: true, scheme });
      expect(await verifyLegacyPassword(hash, 'argon pass')).toBe(true);
      expect(await verifyLegacyPassword(hash, 'argon pasS')).toBe(false);
    });
  });

  it.each([
    ['plain text', 'hunter2'],
    ['md5crypt', '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/'],
    ['Django sha1', 'sha1$salt$0123456789abcdef0123456789abcdef01234567'],
    ['bcrypt $2x$', '$2x$10$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
    ['bcrypt cost 31', '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
    ['argon2d', '$argon2d$v=19$m=8192,t=2,p=1$c29tZXNhbHRzYWx0$7sFNZmBV38n5v2wrgR6o3gWzgIsMqqJ5cKvEPlswVYY'],
    [
      'argon2 with 4 GiB',
      '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzYWx0$7sFNZmBV38n5v2wrgR6o3gWzgIsMqqJ5cKvEPlswVYY',
    ],
    ['pbkdf2 with a short key', 'pbkdf2_sha256$1000$salt$c2hvcnQ='],
    ['scrypt needing 1 GiB', '$scrypt$ln=20,r=8,p=1$c2FsdHNhbHQ$c2hvcnRzaG9ydHNob3J0c2hvcnQ'],
    [
      'argon2 with m twice',
      '$argon2id$v=19$m=8192,m=8192,p=1$c29tZXNhbHRzYWx0$7sFNZmBV38n5v2wrgR6o3gWzgIsMqqJ5cKvEPlswVYY',
    ],
    ['scrypt in another order', '$scrypt$r=8,ln=14,p=1$c2FsdHNhbHQ$c2hvcnRzaG9ydHNob3J0c2hvcnQ'],
  ])('refuses %s, naming no part of the hash', async (_label, hash) => {
    const check = checkImportedHash(hash);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      // the salt and the hash proper: the last two fields
      for (const part of hash
        .split('$')
        .slice(-2)
        .filter((p) => p.length >= 6))
        expect(check.problem).not.toContain(part);
    }
    expect(await verifyLegacyPassword(hash, 'U*U')).toBe(false);
  });

  it('verifies imported hashes through the password hasher, which asks for a rehash', async () => {
    const hasher = createPasswordHasher({ memoryKiB: 8192, timeCost: 2, parallelism: 1 });
    const current = await hasher.hash('the password');
    const older = await argon2.hash('the password', {
      type: argon2.argon2id as 2,
      memoryCost: 9216,
      timeCost: 2,
      parallelism: 1,
    });
    const argon2i = await argon2.hash('the password', {
      type: argon2.argon2i as 1,
      memoryCost: 8192,
      timeCost: 2,
      parallelism: 1,
    });
    for (const hash of [
      bcrypt.hashSync('the password', 4),
      django('the password', 'abc', 1000),
      scryptPhc('the password', randomBytes(16), 10, 8, 1),
      older,
      argon2i,
    ]) {
      expect(await hasher.verify(hash, 'the password')).toBe(true);
      expect(await hasher.verify(hash, 'not the password')).toBe(false);
      expect(hasher.needsRehash(hash)).toBe(true);
    }
    expect(await hasher.verify(current, 'the password')).toBe(true);
    expect(hasher.needsRehash(current)).toBe(false);
    expect(await hasher.verify('unknown$format', 'the password')).toBe(false);
  });
});

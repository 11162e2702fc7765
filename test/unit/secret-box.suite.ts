import { randomBytes } from 'node:crypto';
import { createSecretBox, SecretBoxError } from '../../src/security/secret-box.js';

describe('secret box', () => {
  const box = createSecretBox(randomBytes(32));

  it('round-trips a secret and never stores it in the clear', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'credentials:totp');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(box.open(sealed, 'credentials:totp')).toBe('JBSWY3DPEHPK3PXP');
    expect(box.seal('same', 'c')).not.toBe(box.seal('same', 'c'));
  });

  it('refuses another context, another key, tampering and garbage', () => {
    const sealed = box.seal('secret', 'signing_keys:sig:a');
    expect(() => box.open(sealed, 'signing_keys:sig:b')).toThrow(SecretBoxError);
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'signing_keys:sig:a')).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    parts[2] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'signing_keys:sig:a')).toThrow(SecretBoxError);
    expect(() => box.open('nonsense', 'x')).toThrow(SecretBoxError);
    expect(() => createSecretBox(randomBytes(16))).toThrow(SecretBoxError);
  });
});

import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A WebAuthn authenticator in software for the integration tests: P-256 keys, "none"
 * attestation, and a signature counter the test controls. It builds exactly what a browser
 * would send after navigator.credentials.create()/get() (WebAuthn L3 §5.1.3, §5.1.4, §6.1),
 * so the server's real verification runs against it.
 */

// --- a minimal CBOR encoder (RFC 8949): unsigned/negative ints, byte and text strings, maps.
function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  throw new Error('CBOR value too long for this encoder');
}
type Cbor = number | string | Buffer | Map<Cbor, Cbor>;
function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64u = (data: Buffer) => data.toString('base64url');

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface SoftwareCredential {
  /** base64url credential id, as the server stores it. */
  id: string;
  rpId: string;
  userHandle: string;
  privateKey: KeyObject;
  counter: number;
}

export interface CreationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}

export interface RequestOptions {
  challenge: string;
  rpId?: string;
}

function authenticatorData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
}

function clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

export class SoftwareAuthenticator {
  constructor(
    readonly origin: string,
    readonly options: { userVerified?: boolean } = { userVerified: true },
  ) {}

  private flags(): number {
    return FLAG_UP | (this.options.userVerified === false ? 0 : FLAG_UV);
  }

  /** What startRegistration() returns, and the credential the authenticator keeps. */
  create(options: CreationOptions): { response: Record<string, unknown>; credential: SoftwareCredential } {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const coseKey = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? '', 'base64url')],
        [-3, Buffer.from(jwk.y ?? '', 'base64url')],
      ]),
    );
    const id = randomBytes(32);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, id, coseKey]);
    const authData = authenticatorData(rpId, this.flags() | FLAG_AT, 0, attested);
    const attestationObject = cbor(
      new Map<Cbor, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      credential: { id: b64u(id), rpId, userHandle: options.user.id, privateKey, counter: 0 },
      response: {
        id: b64u(id),
        rawId: b64u(id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64u(clientData('webauthn.create', options.challenge, this.origin)),
          attestationObject: b64u(attestationObject),
          transports: ['internal'],
        },
      },
    };
  }

  /**
   * What startAuthentication() returns for `credential`. The counter moves on by one unless
   * the test sets `counter` (to replay or regress it).
   */
  get(
    options: RequestOptions,
    credential: SoftwareCredential,
    override: { counter?: number; challenge?: string } = {},
  ): Record<string, unknown> {
    const counter = override.counter ?? credential.counter + 1;
    credential.counter = counter;
    const authData = authenticatorData(credential.rpId, this.flags(), counter);
    const data = clientData('webauthn.get', override.challenge ?? options.challenge, this.origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(data)]), credential.privateKey);
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(data),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: credential.userHandle,
      },
    };
  }
}

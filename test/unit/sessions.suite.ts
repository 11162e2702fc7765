import { loadConfig, ConfigError } from '../../src/config/load.js';
import { sessionRowSeconds, sessionTtl } from '../../src/oidc/session-lifetime.js';
import { retryDelaySeconds } from '../../src/oidc/backchannel-logout.js';
import { describeDevice } from '../../src/accounts/device.js';

const settings = { absoluteLifetimeSeconds: 30 * 86_400, idleTimeoutSeconds: 7 * 86_400 };

describe('session lifetimes', () => {
  it('gives a session saved before any sign-in the whole absolute lifetime', () => {
    expect(sessionTtl(settings)(undefined, {})).toBe(settings.absoluteLifetimeSeconds);
  });

  it('counts the absolute lifetime from the sign-in, so a later save never extends it', () => {
    const now = Math.floor(Date.now() / 1000);
    const ttl = sessionTtl(settings)(undefined, { loginTs: now - 86_400 });
    // One day has gone by; allow the second that may tick between the two clock reads.
    expect(ttl).toBeLessThanOrEqual(settings.absoluteLifetimeSeconds - 86_400);
    expect(ttl).toBeGreaterThanOrEqual(settings.absoluteLifetimeSeconds - 86_400 - 1);
  });

  it('keeps a session past its end alive for one second only (the provider wants a positive number)', () => {
    expect(sessionTtl(settings)(undefined, { loginTs: 0 })).toBe(1);
  });

  it('stores a session row until the idle timeout, never past its absolute end', () => {
    expect(sessionRowSeconds(settings, settings.absoluteLifetimeSeconds)).toBe(settings.idleTimeoutSeconds);
    expect(sessionRowSeconds(settings, 60)).toBe(60);
    expect(sessionRowSeconds(settings, undefined)).toBe(settings.idleTimeoutSeconds);
  });

  it('refuses an idle timeout longer than the absolute lifetime', () => {
    try {
      loadConfig({}, { sessions: { absoluteLifetimeSeconds: 60, idleTimeoutSeconds: 120 } });
      throw new Error('loaded');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'sessions.idleTimeoutSeconds: must not exceed absoluteLifetimeSeconds',
      ]);
    }
  });

  it('has sessions defaults and no ttl.session any more', () => {
    const config = loadConfig({});
    expect(config.sessions).toEqual({
      absoluteLifetimeSeconds: 2_592_000,
      idleTimeoutSeconds: 604_800,
      rememberByDefault: false,
      backchannelLogout: { attempts: 5, initialDelaySeconds: 5, backoffFactor: 4 },
    });
    expect(() => loadConfig({}, { ttl: { session: 60 } as never })).toThrow(/Unrecognized key/);
  });
});

describe('back-channel logout retries', () => {
  it('wait initialDelay, then grow by the factor', () => {
    const backoff = { attempts: 5, initialDelaySeconds: 5, backoffFactor: 4 };
    expect([2, 3, 4, 5].map((attempt) => retryDelaySeconds(backoff, attempt))).toEqual([5, 20, 80, 320]);
  });
});

describe('device descriptions', () => {
  it('names the browser and system a person recognises', () => {
    expect(describeDevice('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toEqual({
      browser: 'Firefox 128',
      os: 'Linux',
      mobile: false,
    });
    expect(
      describeDevice(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ),
    ).toMatchObject({ browser: 'Safari 17', mobile: true });
  });

  it('says nothing for a missing or unknown agent', () => {
    expect(describeDevice(undefined)).toEqual({ browser: null, os: null, mobile: false });
    expect(describeDevice('curl/8.5.0')).toEqual({ browser: null, os: null, mobile: false });
    expect(describeDevice('x'.repeat(10_000))).toEqual(expect.objectContaining({ mobile: false }));
  });
});

import Bowser from 'bowser';

/** What a user recognises a browser by: "Firefox 128 on Linux", or nothing for an unknown agent. */
export interface DeviceDescription {
  browser: string | null;
  os: string | null;
  /** A phone or tablet rather than a desktop. */
  mobile: boolean;
}

const MAX_USER_AGENT = 512;

export function describeDevice(userAgent: string | null | undefined): DeviceDescription {
  if (!userAgent) return { browser: null, os: null, mobile: false };
  const parsed = Bowser.parse(userAgent.slice(0, MAX_USER_AGENT));
  const major = parsed.browser.version?.split('.')[0];
  const browser = parsed.browser.name ? `${parsed.browser.name}${major ? ` ${major}` : ''}` : null;
  const os = parsed.os.name ? `${parsed.os.name}${parsed.os.versionName ? ` ${parsed.os.versionName}` : ''}` : null;
  return { browser, os, mobile: parsed.platform.type === 'mobile' || parsed.platform.type === 'tablet' };
}

import type { Browser } from 'playwright-core';
import type { Backend } from './backends.js';
import { startTestServer, type TestServer } from './server.js';
import { launchChromium } from './browser.js';
import { startTinyRp, type TinyRp } from './tiny-rp.js';
import { BOOT_TIMEOUT } from './sessions.js';

export interface BrowserRig {
  server: TestServer;
  rp: TinyRp;
  browser: Browser;
}

/**
 * For a describe block of browser tests: a server, a tiny relying party and Chromium,
 * started together in beforeAll (the returned object is filled in then), closed in afterAll.
 */
export function useBrowserRig(backend: Backend): BrowserRig {
  const rig = {} as BrowserRig;
  beforeAll(async () => {
    [rig.server, rig.rp, rig.browser] = await Promise.all([startTestServer(backend), startTinyRp(), launchChromium()]);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await rig.browser?.close();
    await rig.rp?.close();
    await rig.server?.close();
  });
  return rig;
}

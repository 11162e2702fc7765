import { createHash } from 'node:crypto';
import type { Context } from 'koa';

/**
 * Lets one inline script run on this response: its SHA-256 joins the policy's script-src
 * (CSP Level 3 §8.4, hash-source), as oidc-provider does for its form_post page
 * (lib/helpers/script_src_sha.js). Nothing else inline runs: an injected script has another hash.
 * Returns the script, to be placed in the page byte for byte.
 */
export function allowInlineScript(ctx: Context, script: string): string {
  const policy = ctx.response.get('Content-Security-Policy');
  if (policy) {
    const hash = `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
    ctx.set(
      'Content-Security-Policy',
      policy.replace(
        /(^|;\s*)script-src ([^;]*)/,
        (_all, lead: string, sources: string) => `${lead}script-src ${sources} ${hash}`,
      ),
    );
  }
  return script;
}

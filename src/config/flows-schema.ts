import { z } from 'zod';

/**
 * The `flows` settings (issue 19, "Flows and binding"): which of the device flow, DPoP, pushed
 * authorization requests, signed request objects and the FAPI 2.0 client profile a deployment
 * offers. Discovery advertises exactly what is on (src/oidc/features/flows.ts); defaults and
 * their documentation are in config/default.yaml.
 */
export const flowsSchema = z.strictObject({
  deviceFlow: z.strictObject({
    enabled: z.boolean(),
    // RFC 8628 §3.2 expires_in: how long a user has to enter the code.
    codeTtlSeconds: z.number().int().min(60).max(3600),
    // RFC 8628 §3.5: the least time between two polls of one device code; faster is slow_down.
    pollIntervalSeconds: z.number().int().min(1).max(60),
  }),
  dpop: z.strictObject({
    enabled: z.boolean(),
    // RFC 9449 §8: every proof must carry a nonce the server issued.
    requireNonce: z.boolean(),
  }),
  pushedAuthorizationRequests: z.strictObject({
    enabled: z.boolean(),
    // Every client must push its authorization request (RFC 9126 §5), not only those that say so.
    requiredForAllClients: z.boolean(),
  }),
  requestObjects: z.strictObject({
    enabled: z.boolean(),
  }),
  fapi: z.strictObject({
    enabled: z.boolean(),
  }),
  // RFC 8693 token exchange (src/oidc/features/token-exchange.ts); each client also needs the
  // grant type and an exchange policy.
  tokenExchange: z.strictObject({
    enabled: z.boolean(),
  }),
});

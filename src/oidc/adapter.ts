import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { ROTATED_TO, type OidcStoreRepository } from '../storage/oidc-store.repository.js';
import type { StoredPayload } from '../storage/oidc-rows.js';
import type { ClientsRepository } from '../storage/clients.repository.js';
import { clientMetadata, refreshReuseGraceOf } from '../clients/client-metadata.js';
import { requestMemo } from './request-memo.js';
import { relatedRows, type RelatedRows } from './related-rows.js';
import type { RegisteredClientStore } from './registered-client-store.js';
import { sessionRowSeconds } from './session-lifetime.js';
import type { Config } from '../config/schema.js';
import { BEARER_MODELS, SEALED_BEARER_MODELS, type TokenDigest } from '../security/token-digest.js';

/** Tokens that name a grant and a session, which the provider reads next when it finds one. */
const LEADS_TO_GRANT = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode']);

/** Models whose single use protects a grant: losing the consume race is a replay. */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** Where a SEALED_BEARER_MODELS row keeps its sealed value (security/token-digest.ts). */
const SEALED_VALUE = 'sealedValue';

/**
 * A device code (RFC 8628) under its digest. The provider finds it by user code and saves it
 * again under its value (`jti`), and names it in the Interaction of the sign-in between
 * (`deviceCode`, read back at /device/:uid): both places keep it sealed, and the adapter
 * hands the provider the value it expects. Reading the database yields no device code to poll with.
 */
function deviceCodeSealing(digest: TokenDigest) {
  return {
    /** A sealed model's row: the value sealed in place of `jti`. */
    toRow(model: string, id: string, payload: AdapterPayload): StoredPayload {
      const { jti: _value, ...rest } = payload;
      return { ...rest, [SEALED_VALUE]: digest.seal(model, id) } as StoredPayload;
    },
    /** A sealed model's row as the provider saved it, `jti` opened from the row. */
    fromRow(model: string, row: StoredPayload | undefined, value?: string): AdapterPayload | undefined {
      if (!row) return undefined;
      const { [SEALED_VALUE]: sealed, ...rest } = row as Record<string, unknown>;
      const jti = value ?? (typeof sealed === 'string' ? digest.open(model, sealed) : undefined);
      return { ...rest, jti } as AdapterPayload;
    },
    /** An Interaction's row: the device code it names, sealed. */
    interactionToRow(payload: AdapterPayload): AdapterPayload {
      const code = payload.deviceCode;
      return typeof code === 'string' ? { ...payload, deviceCode: digest.seal('Interaction', code) } : payload;
    },
    interactionFromRow(row: AdapterPayload | undefined): AdapterPayload | undefined {
      const code = row?.deviceCode;
      return row && typeof code === 'string' ? { ...row, deviceCode: digest.open('Interaction', code) } : row;
    },
  };
}

/**
 * Clients are read from the `clients` table (registered by the CLI, the admin API or
 * dynamic registration). oidc-provider writes them only for dynamic registration
 * (RFC 7591/7592) and only through `registered`; without it the provider cannot write.
 */
function clientAdapter(
  clients: Pick<ClientsRepository, 'find'>,
  registered: RegisteredClientStore | undefined,
): Adapter {
  const readOnly = async () => {
    throw new Error('clients are managed through Gatehouse, not the provider');
  };
  return {
    async find(id) {
      const row = await clients.find(id);
      return row ? (clientMetadata(row) as AdapterPayload) : undefined;
    },
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    upsert: registered ? (id, payload) => registered.save(id, payload) : readOnly,
    consume: readOnly,
    destroy: registered ? (id) => registered.remove(id) : readOnly,
    revokeByGrantId: async () => undefined,
  };
}

/**
 * Finds of one id as several models, asked for in the same tick, go to the database as one
 * statement. oidc-provider's findToken (lib/helpers/token_find.js) looks a presented value up
 * as an AccessToken and a ClientCredentials token at once (introspection, revocation). Nothing
 * is kept: the batch is read when the tick ends and forgotten, so every caller still gets a
 * read made after it asked, as if it had made its own. Inside a provider request, a find of a
 * token also reads the Grant and Session it names, for `related` (related-rows.ts).
 */
function batchFinds(oidc: OidcStoreRepository, related: RelatedRows) {
  type Batch = { models: Set<string>; rows: Promise<Map<string, StoredPayload>> };
  // Per provider request: another request's batch may run on that request's transaction, or
  // on the pool while this one holds the embedded database's only transaction (a deadlock).
  // Outside the provider (our routes, background work) nothing runs in a request transaction.
  const batches = requestMemo<Batch>();
  const outsideRequests = new Map<string, Batch>();
  const read = async (models: Set<string>, id: string, inRequest: boolean): Promise<Map<string, StoredPayload>> => {
    if (inRequest && [...models].some((model) => LEADS_TO_GRANT.has(model))) {
      const withRelated = await related.remember(() => oidc.findAmongWithRelated([...models], id));
      return withRelated.found;
    }
    const [only] = models;
    if (models.size === 1 && only !== undefined) {
      const payload = await oidc.find(only, id);
      return new Map(payload ? [[only, payload]] : []);
    }
    return oidc.findAmong([...models], id);
  };
  return (model: string, id: string): Promise<StoredPayload | undefined> => {
    const inRequest = batches.of();
    const open = inRequest ?? outsideRequests;
    let batch = open.get(id);
    if (!batch) {
      const models = new Set<string>();
      const rows = Promise.resolve().then(() => {
        open.delete(id);
        return read(models, id, inRequest !== undefined);
      });
      batch = { models, rows };
      open.set(id, batch);
    }
    batch.models.add(model);
    return batch.rows.then((found) => found.get(model));
  };
}

/** Whether this provider request is the refresh_token grant presenting `value`. */
function refreshGrantPresenting(value: string): boolean {
  const oidc = Provider.ctx?.oidc;
  return oidc?.route === 'token' && oidc.params?.grant_type === 'refresh_token' && oidc.params.refresh_token === value;
}

/**
 * A client's refresh reuse grace (docs/sessions.md "A refresh whose response is lost"): a
 * rotated token presented again within the grace, while the token it was rotated to is unused,
 * is rotated once more and that unused successor voided; anything else stays reuse, which
 * revokes the grant. oidc-provider has no such notion, so the adapter keeps the link (the spent
 * row names its successor) and, for such a retry, hands the provider the spent token as unspent.
 * Per request: the stored id of the refresh token the grant found, and whether it is such a retry.
 */
function refreshReuseGrace(oidc: OidcStoreRepository, clients: Pick<ClientsRepository, 'find'>) {
  const found = requestMemo<{ retry: boolean }>();
  return {
    /** The token as the provider should see it: unspent when this request may rotate it again. */
    async admit(value: string, storedId: string, payload: StoredPayload): Promise<StoredPayload> {
      const clientId = typeof payload.clientId === 'string' ? payload.clientId : undefined;
      const seen = found.of();
      if (!seen || !clientId || !refreshGrantPresenting(value)) return payload;
      const grace = refreshReuseGraceOf((await clients.find(clientId))?.metadata ?? {});
      if (grace === 0) return payload;
      const retry =
        typeof payload.consumed === 'number' && (await oidc.voidUnusedSuccessor('RefreshToken', storedId, grace));
      seen.set(storedId, { retry });
      if (!retry) return payload;
      const { consumed: _spent, ...unspent } = payload;
      return unspent;
    },
    /** A retry's token is spent already, since its first rotation: the grace runs from then. */
    isRetry: (storedId: string): boolean => found.of()?.get(storedId)?.retry === true,
    /** The token this request rotated away now names its successor. */
    async link(successorId: string): Promise<void> {
      const [predecessor] = found.of()?.keys() ?? [];
      if (predecessor !== undefined && predecessor !== successorId)
        await oidc.annotate('RefreshToken', predecessor, { [ROTATED_TO]: successorId });
    },
  };
}

/**
 * The translator between oidc-provider's seven adapter methods and our storage.
 * `createAdapter(storage)` is passed as the provider's `adapter` factory.
 */
export function createAdapter(deps: {
  oidc: OidcStoreRepository;
  /** Bearer secrets are stored under a keyed digest of their value (security/token-digest.ts). */
  digest: TokenDigest;
  /** The server passes its per-request reads (request-client-reads.ts); the CLI the repository. */
  clients: Pick<ClientsRepository, 'find'>;
  registeredClients?: RegisteredClientStore;
  /** Session rows live until the idle timeout (session-lifetime.ts); without it, as the provider says. */
  sessions?: Pick<Config['sessions'], 'absoluteLifetimeSeconds' | 'idleTimeoutSeconds'>;
}) {
  const { oidc, clients, sessions, digest } = deps;
  const related = relatedRows();
  const find = batchFinds(oidc, related);
  const grace = refreshReuseGrace(oidc, clients);
  const sealing = deviceCodeSealing(digest);
  const rowSeconds = (model: string, expiresIn: number | undefined) =>
    model === 'Session' && sessions ? sessionRowSeconds(sessions, expiresIn) : expiresIn;
  return function adapterFor(model: string): Adapter {
    if (model === 'Client') return clientAdapter(clients, deps.registeredClients);
    const sealed = SEALED_BEARER_MODELS.has(model);
    const bearer = BEARER_MODELS.has(model) || sealed;
    const stored = (id: string) => digest.storedId(model, id);
    const interaction = model === 'Interaction';
    const unseal = (row: Promise<AdapterPayload | undefined>) =>
      interaction ? row.then((found) => sealing.interactionFromRow(found)) : row;
    return {
      // A bearer row keeps no copy of its value (`jti`): the provider gets back the value it looked up.
      find: bearer
        ? async (id) => {
            const storedId = stored(id);
            const payload = await find(model, storedId);
            if (!payload) return undefined;
            if (sealed) return sealing.fromRow(model, payload, id);
            const admitted = model === 'RefreshToken' ? await grace.admit(id, storedId, payload) : payload;
            return { ...admitted, jti: id } as AdapterPayload;
          }
        : (id) => unseal(related.read(model, 'id', id, () => find(model, id)) as Promise<AdapterPayload | undefined>),
      findByUid: (uid) =>
        unseal(
          related.read(model, 'uid', uid, () => oidc.findByUid(model, uid)) as Promise<AdapterPayload | undefined>,
        ),
      findByUserCode: async (code) => {
        const row = await oidc.findByUserCode(model, code);
        return sealed ? sealing.fromRow(model, row) : (row as AdapterPayload | undefined);
      },
      async upsert(id, payload, expiresIn) {
        related.forget(model);
        const { jti: _value, ...withoutValue } = payload;
        const storedId = stored(id);
        await oidc.upsert({
          model,
          id: storedId,
          payload: sealed
            ? sealing.toRow(model, id, payload)
            : bearer
              ? withoutValue
              : interaction
                ? sealing.interactionToRow(payload)
                : { ...payload },
          expiresInSeconds: rowSeconds(model, expiresIn),
        });
        if (model === 'RefreshToken') await grace.link(storedId);
      },
      async consume(id) {
        const storedId = stored(id);
        if (model === 'RefreshToken' && grace.isRetry(storedId)) return;
        const result = await oidc.consume(model, storedId);
        if (result.outcome === 'consumed' || !SINGLE_USE.has(model)) return;
        // A concurrent redemption won (or a replay already revoked the row): treat this
        // one as the replay it is, as the provider does for a sequential one
        // (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
        if (result.outcome === 'already-consumed' && result.grantId) {
          related.forgetAll();
          await oidc.revokeGrant(result.grantId);
        }
        throw new errors.InvalidGrant(`${model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
      },
      destroy: (id) => {
        related.forget(model);
        return oidc.destroy(model, stored(id));
      },
      revokeByGrantId: (grantId) => {
        related.forget(model);
        return oidc.revokeByGrantId(model, grantId);
      },
    };
  };
}

import type { AuditAction } from '../security/audit.js';
import type {
  ActionCount,
  ActivityRepository,
  ActivityWindow,
  ClientRequests,
} from '../storage/activity.repository.js';

/**
 * The dashboard's figures (docs/admin-console.md, "Activity"), from the audit log: what each
 * action means for the charts is decided here, the counting is SQL (storage/activity.repository.ts).
 */

/** The ranges an admin can pick, each with its bucket size and count (the last bucket is the current one). */
const ACTIVITY_RANGES = {
  '24h': { unit: 'hour', buckets: 24 },
  '7d': { unit: 'day', buckets: 7 },
  '30d': { unit: 'day', buckets: 30 },
} as const;
export type ActivityRange = keyof typeof ACTIVITY_RANGES;
export const RANGE_NAMES = Object.keys(ACTIVITY_RANGES) as ActivityRange[];

export const SIGN_IN_METHODS = ['password', 'passkey', 'totp', 'code', 'upstream', 'other'] as const;
type SignInMethod = (typeof SIGN_IN_METHODS)[number];

export const ACCOUNT_SOURCES = ['sign_up', 'admin', 'upstream', 'import'] as const;
type AccountSource = (typeof ACCOUNT_SOURCES)[number];

/** How many clients the token chart names; the rest are in `total`. */
const TOP_CLIENTS = 10;

interface Outcomes {
  success: number[];
  failure: number[];
}

export interface ActivityReport {
  range: ActivityRange;
  unit: 'hour' | 'day';
  /** The first bucket's start; `to` is the end of the last (current) bucket. */
  from: Date;
  to: Date;
  /** Each bucket's start; every series below has one number per bucket. */
  buckets: Date[];
  /** First steps of sign-in (password, passkey, email code or link, upstream): one per attempt. */
  signIns: Outcomes;
  /** Every step by its method, second factors included: a password + TOTP sign-in counts in both. */
  methods: Record<SignInMethod, Outcomes>;
  /** Distinct people who signed in, per bucket, in the 24 hours and the 30 days up to now. */
  activeUsers: { perBucket: number[]; daily: number; monthly: number };
  newAccounts: Record<AccountSource, number[]>;
  /** Back-offs started after repeated failures (signin.locked_out). */
  lockouts: number[];
  /** Rate-limit windows a key exceeded (ratelimit.exceeded: the first refusal of each window). */
  rateLimits: number[];
  /** Successful token responses per client, the busiest first (counted by the token tally). */
  tokenRequests: { clients: ClientRequests[]; total: number };
}

/** The action recorded every few minutes per client with how many tokens it got (observability/token-requests.ts). */
export const TOKEN_REQUESTS_ACTION: AuditAction = 'token.requests';

type Classify = (row: Pick<ActionCount, 'method'>) => { method: SignInMethod; success: boolean; firstStep: boolean };

const SECOND_FACTOR_METHODS: Record<string, SignInMethod> = { totp: 'totp', email: 'code', sms: 'code', code: 'code' };
const secondFactor =
  (success: boolean): Classify =>
  ({ method }) => ({ method: SECOND_FACTOR_METHODS[method ?? ''] ?? 'other', success, firstStep: false });
const firstStep =
  (method: SignInMethod, success: boolean): Classify =>
  () => ({ method, success, firstStep: true });

const SIGN_IN_ACTIONS: Partial<Record<AuditAction, Classify>> = {
  'signin.password.succeeded': firstStep('password', true),
  'signin.password.failed': firstStep('password', false),
  'signin.passkey.succeeded': firstStep('passkey', true),
  'signin.passkey.failed': firstStep('passkey', false),
  'signin.email_code.succeeded': firstStep('code', true),
  'signin.email_code.failed': firstStep('code', false),
  'signin.upstream.succeeded': firstStep('upstream', true),
  'federation.failed': firstStep('upstream', false),
  'signin.mfa.succeeded': secondFactor(true),
  'signin.mfa.failed': secondFactor(false),
  'signin.mfa.replayed': secondFactor(false),
};

const ACCOUNT_ACTIONS: Partial<Record<AuditAction, AccountSource>> = {
  'signup.registered': 'sign_up',
  'user.created': 'admin',
  'federation.account_created': 'upstream',
  'users.imported': 'import',
};

const LOCKOUT: AuditAction = 'signin.locked_out';
const RATE_LIMIT: AuditAction = 'ratelimit.exceeded';

/** The actions that show a person signed in: their subjects are the active users. */
const ACTIVE_ACTIONS = Object.entries(SIGN_IN_ACTIONS)
  .filter(([, classify]) => classify?.({ method: null }).success)
  .map(([action]) => action);

const COUNTED_ACTIONS = [...Object.keys(SIGN_IN_ACTIONS), ...Object.keys(ACCOUNT_ACTIONS), LOCKOUT, RATE_LIMIT];

const UNIT_MS = { hour: 3_600_000, day: 86_400_000 } as const;
const DAY_MS = UNIT_MS.day;

/** The buckets of `range` ending with the one `now` is in (UTC hours or days: epoch time is UTC). */
function windowOf(range: ActivityRange, now: number): ActivityWindow & { buckets: Date[] } {
  const { unit, buckets } = ACTIVITY_RANGES[range];
  const size = UNIT_MS[unit];
  const current = Math.floor(now / size) * size;
  const from = current - (buckets - 1) * size;
  return {
    unit,
    from: new Date(from),
    to: new Date(current + size),
    buckets: Array.from({ length: buckets }, (_, i) => new Date(from + i * size)),
  };
}

const zeros = (n: number) => Array.from({ length: n }, () => 0);
const add = (series: number[], i: number, value: number) => {
  series[i] = (series[i] ?? 0) + value;
};

export function createActivityService(deps: { activity: ActivityRepository; now: () => number }) {
  const { activity } = deps;
  return {
    async report(range: ActivityRange): Promise<ActivityReport> {
      const now = deps.now();
      const window = windowOf(range, now);
      const size = UNIT_MS[window.unit];
      const n = window.buckets.length;
      const indexOf = (bucket: Date) => Math.round((bucket.getTime() - window.from.getTime()) / size);
      const [counts, active, recent, tokens] = await Promise.all([
        activity.countActions(window, COUNTED_ACTIONS),
        activity.distinctSubjects(window, ACTIVE_ACTIONS),
        activity.distinctSubjectsSince(ACTIVE_ACTIONS, {
          recent: new Date(now - DAY_MS),
          from: new Date(now - 30 * DAY_MS),
          to: new Date(now),
        }),
        activity.sumPerClient(window, TOKEN_REQUESTS_ACTION, TOP_CLIENTS),
      ]);

      const outcomes = (): Outcomes => ({ success: zeros(n), failure: zeros(n) });
      const report: ActivityReport = {
        range,
        unit: window.unit,
        from: window.from,
        to: window.to,
        buckets: window.buckets,
        signIns: outcomes(),
        methods: Object.fromEntries(SIGN_IN_METHODS.map((m) => [m, outcomes()])) as ActivityReport['methods'],
        activeUsers: { perBucket: zeros(n), daily: recent.recent, monthly: recent.all },
        newAccounts: Object.fromEntries(ACCOUNT_SOURCES.map((s) => [s, zeros(n)])) as ActivityReport['newAccounts'],
        lockouts: zeros(n),
        rateLimits: zeros(n),
        tokenRequests: tokens,
      };
      for (const row of counts) {
        const i = indexOf(row.bucket);
        if (i < 0 || i >= n) continue;
        const action = row.action as AuditAction;
        const signIn = SIGN_IN_ACTIONS[action]?.(row);
        const source = ACCOUNT_ACTIONS[action];
        if (signIn) {
          const outcome = signIn.success ? 'success' : 'failure';
          add(report.methods[signIn.method][outcome], i, row.events);
          if (signIn.firstStep) add(report.signIns[outcome], i, row.events);
        } else if (source) {
          add(report.newAccounts[source], i, source === 'import' ? row.imported : row.events);
        } else if (action === LOCKOUT) {
          add(report.lockouts, i, row.events);
        } else if (action === RATE_LIMIT) {
          add(report.rateLimits, i, row.events);
        }
      }
      for (const row of active) {
        const i = indexOf(row.bucket);
        if (i >= 0 && i < n) report.activeUsers.perBucket[i] = row.users;
      }
      return report;
    },
  };
}

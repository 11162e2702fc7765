import type Router from '@koa/router';
import type { ConsoleRouteTools } from './pages.js';
import type { WithConsoleContext } from './context.js';
import { describeEvents } from './audit-view.js';
import { InvalidInputError } from '../../errors/domain-errors.js';
import {
  ACCOUNT_SOURCES,
  RANGE_NAMES,
  SIGN_IN_METHODS,
  TOKEN_REQUESTS_ACTION,
  type ActivityRange,
  type ActivityReport,
} from '../../admin/activity.service.js';
import { bucketLabels, horizontalBars, stackedBars, type ChartSeries } from './charts.js';

const DEFAULT_RANGE: ActivityRange = '7d';
/** The console speaks English (its texts are in the catalogue for when it does not). */
const LOCALE = 'en-GB';
const numbers = new Intl.NumberFormat(LOCALE);
const formatNumber = (n: number) => numbers.format(n);

function rangeOf(value: unknown): ActivityRange {
  if (value === undefined) return DEFAULT_RANGE;
  if (typeof value === 'string' && (RANGE_NAMES as string[]).includes(value)) return value as ActivityRange;
  throw new InvalidInputError('range', `must be one of ${RANGE_NAMES.join(', ')}`);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The report as the dashboard's charts, each named by its catalogue key (activity.charts.<key>). */
function chartsOf(report: ActivityReport) {
  const { labels, ticks } = bucketLabels(report.unit, report.buckets, LOCALE);
  const bars = (series: ChartSeries[]) => stackedBars({ labels, ticks, series, formatNumber });
  const named = (entries: Array<[string, number[]]>): ChartSeries[] =>
    entries.map(([key, values]) => ({ key, values }));
  const { tokenRequests } = report;
  const others = tokenRequests.total - sum(tokenRequests.clients.map((c) => c.requests));
  return [
    {
      key: 'signIns',
      chart: bars(
        named([
          ['success', report.signIns.success],
          ['failure', report.signIns.failure],
        ]),
      ),
    },
    { key: 'methods', chart: bars(named(SIGN_IN_METHODS.map((m) => [m, report.methods[m].success]))) },
    { key: 'activeUsers', chart: bars(named([['active', report.activeUsers.perBucket]])) },
    { key: 'newAccounts', chart: bars(named(ACCOUNT_SOURCES.map((s) => [s, report.newAccounts[s]]))) },
    {
      key: 'limits',
      chart: bars(
        named([
          ['lockouts', report.lockouts],
          ['rateLimits', report.rateLimits],
        ]),
      ),
    },
    {
      key: 'tokens',
      chart: horizontalBars({
        rows: [
          ...tokenRequests.clients.map((c) => ({ label: c.name ?? c.clientId, value: c.requests })),
          ...(others > 0 ? [{ label: '', value: others, rest: true }] : []),
        ],
        formatNumber,
      }),
    },
  ];
}

/**
 * GET /admin: what needs attention (registrations waiting for approval), activity at a glance
 * (charts over ?range=24h|7d|30d, docs/admin-console.md) and the latest changes.
 */
export function addDashboardRoutes(router: Router, { deps, show, view }: ConsoleRouteTools): void {
  router.get('/', ...view, async (ctx: WithConsoleContext) => {
    const range = rangeOf(ctx.query.range);
    const [pending, events, report] = await Promise.all([
      deps.admin.clients.page({ status: 'pending', limit: 100 }),
      // The token tally is a count written every few minutes, not a change.
      deps.admin.audit.query({ limit: 10, notAction: TOKEN_REQUESTS_ACTION }),
      deps.admin.activity.report(range),
    ]);
    await show(ctx, 'dashboard', {
      title: 'Admin console',
      pendingCount: pending.items.length,
      pendingMore: pending.next !== null,
      events: await describeEvents(events, deps.storage),
      range,
      ranges: RANGE_NAMES,
      report,
      charts: chartsOf(report),
      formatNumber,
      sum,
    });
  });
}

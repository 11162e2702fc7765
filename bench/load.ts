import { performance } from 'node:perf_hooks';

/**
 * A closed-loop load phase: `concurrency` workers each run one operation at a time until the
 * time is up or the operation budget is spent, whichever comes first. A warm-up of the same
 * operation runs before the measured window and is not counted.
 */
export interface PhaseOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Hard cap on operations started in the measured window. */
  maxOps: number;
  /** A worker whose operation fails stops (its state, e.g. a refresh chain, is broken). */
  retireOnError?: boolean;
}

/**
 * Starts measuring when called; the function it returns gives the amount since: CPU
 * seconds for a 'cpu' meter, or a count (transactions, rows, commands) for a 'count' one.
 */
export interface Meter {
  label: string;
  /** cpu: seconds used; count: events per operation; record: a side recording, no figure. */
  kind: 'cpu' | 'count' | 'record';
  start(): Promise<() => Promise<number | undefined>>;
}

export interface PhaseResult {
  ops: number;
  errors: number;
  /** Distinct error messages with their counts (at most 5). */
  errorSamples: Record<string, number>;
  retiredWorkers: number;
  seconds: number;
  opsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU seconds per meter over the measured window. */
  cpuSeconds: Record<string, number | null>;
  /** The same, per 1,000 successful operations. */
  cpuSecondsPer1000: Record<string, number | null>;
  /** Count meters per successful operation (e.g. PostgreSQL transactions per token request). */
  perOperation: Record<string, number | null>;
  /** Refresh phase only: how many chains, and the longest one's rotations (warm-up included). */
  chains?: { count: number; maxRotations: number };
}

/** Stop early when an operation fails this often: the server is broken, not slow. */
const MAX_ERRORS = 500;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] ?? NaN;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

interface Window {
  latencies: number[];
  errors: number;
  errorSamples: Map<string, number>;
  retired: number;
}

async function loop(
  workers: Array<() => Promise<void>>,
  durationMs: number,
  maxOps: number,
  retireOnError: boolean,
): Promise<Window> {
  const window: Window = { latencies: [], errors: 0, errorSamples: new Map(), retired: 0 };
  const deadline = performance.now() + durationMs;
  let started = 0;
  await Promise.all(
    workers.map(async (op) => {
      while (performance.now() < deadline && started < maxOps && window.errors < MAX_ERRORS) {
        started++;
        const t0 = performance.now();
        try {
          await op();
          window.latencies.push(performance.now() - t0);
        } catch (error) {
          window.errors++;
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          if (window.errorSamples.has(message) || window.errorSamples.size < 5) {
            window.errorSamples.set(message, (window.errorSamples.get(message) ?? 0) + 1);
          }
          if (retireOnError) {
            window.retired++;
            return;
          }
        }
      }
    }),
  );
  return window;
}

export async function runPhase(
  workers: Array<() => Promise<void>>,
  meters: Meter[],
  options: PhaseOptions,
): Promise<PhaseResult> {
  const retire = options.retireOnError ?? false;
  if (options.warmupMs > 0) {
    const warm = await loop(workers, options.warmupMs, options.maxOps, false);
    if (warm.latencies.length === 0) {
      throw new Error(`every warm-up operation failed: ${[...warm.errorSamples.keys()].join(' | ')}`);
    }
  }
  // One at a time: some meters share a database connection.
  const stops: Array<() => Promise<number | undefined>> = [];
  for (const meter of meters) stops.push(await meter.start());
  const t0 = performance.now();
  const window = await loop(workers, options.durationMs, options.maxOps, retire);
  const seconds = (performance.now() - t0) / 1000;
  const used: Array<number | undefined> = [];
  for (const stop of stops) used.push(await stop());

  const ops = window.latencies.length;
  const sorted = window.latencies.sort((a, b) => a - b);
  const cpuSeconds: Record<string, number | null> = {};
  const cpuSecondsPer1000: Record<string, number | null> = {};
  const perOperation: Record<string, number | null> = {};
  meters.forEach((meter, i) => {
    const value = used[i];
    if (meter.kind === 'record') return;
    if (meter.kind === 'count') {
      perOperation[meter.label] = value === undefined || ops === 0 ? null : round(value / ops, 2);
      return;
    }
    cpuSeconds[meter.label] = value === undefined ? null : round(value, 2);
    cpuSecondsPer1000[meter.label] = value === undefined || ops === 0 ? null : round((value / ops) * 1000, 3);
  });
  return {
    ops,
    errors: window.errors,
    errorSamples: Object.fromEntries(window.errorSamples),
    retiredWorkers: window.retired,
    seconds: round(seconds, 2),
    opsPerSecond: round(ops / seconds, 1),
    latencyMs: {
      p50: round(percentile(sorted, 0.5), 1),
      p90: round(percentile(sorted, 0.9), 1),
      p99: round(percentile(sorted, 0.99), 1),
      max: round(sorted[sorted.length - 1] ?? NaN, 1),
    },
    cpuSeconds,
    cpuSecondsPer1000,
    perOperation,
  };
}

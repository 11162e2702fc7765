/**
 * Summarises a `perf record -g` of the Gatehouse process (`npm run bench -- --perf DIR`):
 * where its CPU time went, two ways.
 *  - by kind of work, from the sampled frame itself: kernel, GC, V8's compilers, optimised
 *    JavaScript, V8's builtins and inline caches (interpreter, baseline code, promises),
 *    argon2, the C library, the rest of node's C++;
 *  - by owner: the nearest JavaScript frame on the stack, grouped by package (a kernel
 *    sample under `pg`'s write is pg's), or the thread when no JavaScript is on it (GC and
 *    compiler threads, libuv's pool running argon2).
 *
 *   npx tsx bench/perf-summary.ts DIR/userinfo.perf.data [--top 20]
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { kind, owner, samples, type Sample } from './perf-attribution.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '20' } },
});
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: tsx bench/perf-summary.ts FILE.perf.data [--top 20]\n');
  process.exit(2);
}

const text = execFileSync('perf', ['script', '-i', file, '-F', 'tid,period,ip,sym,dso'], {
  encoding: 'utf8',
  maxBuffer: 1 << 30,
  stdio: ['ignore', 'pipe', 'ignore'],
});
const all = samples(text);
const total = all.reduce((sum, s) => sum + s.period, 0);
// The thread with most samples is the main (JavaScript) thread.
const perTid = new Map<number, number>();
for (const s of all) perTid.set(s.tid, (perTid.get(s.tid) ?? 0) + s.period);
const mainTid = [...perTid].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;

const tally = (key: (s: Sample) => string) => {
  const sums = new Map<string, number>();
  for (const s of all) {
    const name = key(s);
    sums.set(name, (sums.get(name) ?? 0) + s.period);
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
};
const top = Number(values.top);
const pct = (v: number) => `${((v / total) * 100).toFixed(1).padStart(5)}%`;
const print = (title: string, rows: Array<[string, number]>) => {
  process.stdout.write(`\n${title}:\n`);
  for (const [name, v] of rows.slice(0, top)) process.stdout.write(`  ${pct(v)}  ${name}\n`);
};
process.stdout.write(
  `${all.length} samples, ${(total / 1e9).toFixed(2)} CPU-s, main thread ${pct(perTid.get(mainTid) ?? 0).trim()}\n`,
);
print(
  'by kind of work (the sampled frame)',
  tally((s) => kind(s.stack[0])),
);
print(
  'by owner (nearest JavaScript frame)',
  tally((s) => owner(s, mainTid)),
);
print(
  'kernel time by owner',
  tally((s) => (kind(s.stack[0]) === 'kernel' ? owner(s, mainTid) : '')).filter(([k]) => k !== ''),
);

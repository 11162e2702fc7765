/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. from `npm run bench -- --cpu-prof DIR`):
 * busy self time by package (node_modules/<name>, Node's own JavaScript, Gatehouse's dist/src,
 * native/GC) and the top functions. Idle samples are left out.
 *
 *   npx tsx bench/profile-summary.ts DIR/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: tsx bench/profile-summary.ts FILE.cpuprofile [--top 25]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

function area(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName === '(garbage collector)' ? 'GC' : `(native: ${functionName || 'anonymous'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return 'node (JavaScript)';
  if (url.includes('/dist/src/')) return `gatehouse ${url.slice(url.indexOf('/dist/src/') + 10).split('/')[0] ?? ''}`;
  return url;
}

const areas = new Map<string, number>();
const functions = new Map<string, number>();
let busy = 0;
for (const [id, micros] of self) {
  const node = byId.get(id);
  if (!node || node.callFrame.functionName === '(idle)') continue;
  busy += micros;
  const a = area(node);
  areas.set(a, (areas.get(a) ?? 0) + micros);
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${lineNumber + 1}` : ''}`;
  functions.set(key, (functions.get(key) ?? 0) + micros);
}
const pct = (v: number) => `${((v / busy) * 100).toFixed(1).padStart(5)}%`;
const top = Number(values.top);
process.stdout.write(`busy ${(busy / 1e6).toFixed(2)} s of samples\n\nby area:\n`);
for (const [a, v] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`  ${pct(v)}  ${a}\n`);
process.stdout.write('\ntop functions (self):\n');
for (const [f, v] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, top))
  process.stdout.write(`  ${pct(v)}  ${f}\n`);

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Meter } from './load.js';

/**
 * `perf record` of one process for exactly a measured window: true CPU time (all threads,
 * kernel included, sampled on the cpu-clock), which V8's --cpu-prof cannot give (it samples
 * the main thread by wall clock, so a system call that is preempted looks expensive).
 * The server runs with --perf-basic-prof so JIT frames carry JavaScript names.
 * Summarise with `npx tsx bench/perf-summary.ts FILE.data`.
 */
export function perfRecorder(dir: string, name: string, pid: number): Meter {
  return {
    label: 'perf',
    kind: 'record',
    async start() {
      const file = join(dir, `${name}.perf.data`);
      const perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '999', '-g', '-p', String(pid), '-o', file], {
        stdio: 'ignore',
      });
      const exited = new Promise<void>((resolve) => {
        perf.once('exit', () => resolve());
        perf.once('error', (error) => {
          process.stderr.write(`bench: perf did not start (${error.message}); is Debian's linux-perf installed?\n`);
          resolve();
        });
      });
      // perf needs a moment to attach before the window's first request.
      await new Promise((resolve) => setTimeout(resolve, 300));
      return async () => {
        perf.kill('SIGINT');
        await exited;
        return undefined;
      };
    },
  };
}

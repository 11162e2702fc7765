import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const BIN = process.env.TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL server of its own, on its own port, for tests that stop and start it: the
 * machine's shared server is never touched. initdb takes seconds, so one per test file.
 */
export interface ThrowawayPostgres {
  port: number;
  /** A URL of a new, empty database on this server. */
  createDatabase(): Promise<string>;
  /** `fast` ends every connection with 57P01; `immediate` is a crash (no checkpoint). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data directory, and waits until it accepts connections. */
  start(): Promise<void>;
  /**
   * SIGSTOP to the server and every backend: connections stay open and nothing answers, as
   * with a hung host or a network partition. `thaw` sends SIGCONT.
   */
  freeze(): void;
  thaw(): void;
  /** Stops it if it runs and removes its data directory. */
  destroy(): Promise<void>;
}

/** PostgreSQL refuses to run as root: as root, its commands run as the postgres user. */
async function asPostgres(command: string, args: string[]): Promise<void> {
  const runAsRoot = process.getuid?.() === 0;
  await (runAsRoot
    ? run('runuser', ['-u', 'postgres', '--', join(BIN, command), ...args])
    : run(join(BIN, command), args));
}

/** The postmaster (first line of postmaster.pid) and its children, read from /proc: only this server's processes. */
function serverProcesses(data: string): number[] {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        // The parent pid is the 4th field, after the command name in parentheses.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    });
  return [postmaster, ...children];
}

export async function startThrowawayPostgres(port: number): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(group.trim()));
  }
  const ctl = (args: string[]) => asPostgres('pg_ctl', ['-D', data, ...args]);
  let running = false;
  const start = async () => {
    // The socket lives in our directory, so nothing else on the machine is in its way.
    await ctl([
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-l',
      join(dir, 'log'),
      '-w',
      'start',
    ]);
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await ctl(['-m', mode, '-w', 'stop']);
    running = false;
  };
  try {
    await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await start();
  } catch (error) {
    if (running) await stop('immediate').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let databases = 0;
  return {
    port,
    async createDatabase() {
      const name = `gh_fault_${++databases}`;
      const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
    start,
    freeze() {
      for (const pid of serverProcesses(data)) process.kill(pid, 'SIGSTOP');
    },
    thaw() {
      for (const pid of serverProcesses(data)) process.kill(pid, 'SIGCONT');
    },
    async destroy() {
      if (running) {
        try {
          for (const pid of serverProcesses(data)) process.kill(pid, 'SIGCONT');
        } catch {
          // Already gone.
        }
        await stop('immediate').catch(() => undefined);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

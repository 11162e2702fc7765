import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A throwaway Redis with no persistence, on its own port: the machine's shared one is never touched. */
export interface ThrowawayRedis {
  url: string;
  readonly running: boolean;
  /** Starts it (again, on the same port) and resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills it, as a crash or a lost network would. */
  stop(): Promise<void>;
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
  return child;
}

export async function startThrowawayRedis(port: number): Promise<ThrowawayRedis> {
  let child: ChildProcess | undefined = await spawnRedis(port);
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return alive();
    },
    async start() {
      if (!alive()) child = await spawnRedis(port);
    },
    async stop() {
      if (!child || !alive()) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

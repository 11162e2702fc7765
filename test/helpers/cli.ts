import { runCli } from '../../src/cli/run.js';
import type { TestServer } from './server.js';
import { smallBreachedList } from './breached-list.js';

export interface CliResult {
  code: number;
  out: string[];
  err: string[];
}

/**
 * Runs the CLI in-process against a test server's storage, as an operator would beside it, with
 * the breached-password list that server uses (the small one of test/helpers/breached-list.ts,
 * or the shipped one for the suites that prove it).
 */
export async function cli(server: TestServer, ...argv: string[]): Promise<CliResult> {
  return runAgainst(server, argv, undefined);
}

/** cli() with `stdin` as the command's standard input (a secret given as `--client-secret-file -`). */
export async function cliWithStdin(server: TestServer, stdin: string, ...argv: string[]): Promise<CliResult> {
  return runAgainst(server, argv, stdin);
}

async function runAgainst(server: TestServer, argv: string[], stdin: string | undefined): Promise<CliResult> {
  const { storage, http } = server.gatehouse.config;
  const env = {
    DATA_DIR: storage.dataDir,
    DATABASE_URL: storage.databaseUrl,
    REDIS_URL: storage.redisUrl,
    REDIS_KEY_PREFIX: storage.redisKeyPrefix,
    ISSUER: server.issuer,
    PORT: String(http.port),
    LOG_LEVEL: 'silent',
  };
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    ...(stdin === undefined ? {} : { stdin: () => Promise.resolve(stdin) }),
  };
  const code = await runCli(argv, env, io, {
    breachedList: server.breachedList === 'shipped' ? undefined : smallBreachedList(),
  });
  return { code, out, err };
}

export function json<T>(result: CliResult): T {
  // A failed command prints its reason on stderr: show it rather than a JSON parse error.
  if (result.out.length === 0) {
    throw new Error(`CLI exited ${result.code} without JSON output: ${result.err.join(' | ')}`);
  }
  return JSON.parse(result.out.join('\n')) as T;
}

/**
 * The CLI in-process with `env`, answering as `runBuiltCli` does: the fixtures (users, clients)
 * of system tests whose subject is not the built CLI. A built CLI process loads the whole
 * program, ~1 s each (more on a busy machine); test/integration/boot/start.test.ts runs the
 * built one beside a built server.
 */
export async function runCliIn(
  env: Record<string, string>,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    { ...env, LOG_LEVEL: 'silent' },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
    { breachedList: smallBreachedList() },
  );
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

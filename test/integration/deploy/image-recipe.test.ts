import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/config/package-root.js';
import { templateIsCurrent } from '../../../src/storage/embedded-template.js';
import { freePort } from '../../helpers/ports.js';
import { ensureBuilt } from '../../helpers/processes.js';

/**
 * No Docker engine runs on the build machines, so this performs the Dockerfile's steps by hand:
 * the runtime stage's files copied into an empty directory, a production-only `npm ci` there,
 * the build output copied into it, and the server started from it the way CMD starts it,
 * with the image's ENV. It must become ready and stop cleanly on SIGTERM (STOPSIGNAL).
 */
const dockerfile = readFileSync(join(packageRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

function runtimeCopies(): string[] {
  return [...runtimeStage.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
    (m[1] ?? '').trim().split(/\s+/).slice(0, -1),
  );
}

function imageEnv(): Record<string, string> {
  const line = /^ENV (.+)$/m.exec(runtimeStage)?.[1] ?? '';
  return Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

function command(): string[] {
  return JSON.parse(/^CMD (\[.+\])$/m.exec(runtimeStage)?.[1] ?? '[]') as string[];
}

describe('the container image recipe', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-image-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs production dependencies only, starts from the build output, is ready, and exits 0 on SIGTERM', async () => {
    for (const source of ['package-lock.json', ...runtimeCopies()])
      cpSync(join(packageRoot, source), join(dir, source), { recursive: true });
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: dir,
      stdio: 'pipe',
    });
    expect(() => execFileSync('node', ['-e', "require.resolve('jest')"], { cwd: dir, stdio: 'pipe' })).toThrow();
    // The build stage's output: `npm run build` here (CI runs it first; ensureBuilt compiles
    // again only when a source is newer), copied as COPY --from=build copies it.
    await ensureBuilt();
    cpSync(join(packageRoot, 'dist'), join(dir, 'dist'), { recursive: true });
    // The rest of `npm run build`: the embedded template a first start copies (package.json),
    // built again in the image's directory when the one built here lacks a migration.
    expect(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).scripts.build).toContain(
      'node dist/src/build/embedded-template.js',
    );
    if (!templateIsCurrent(join(dir, 'dist', 'embedded-template')))
      execFileSync(process.execPath, ['dist/src/build/embedded-template.js'], { cwd: dir, stdio: 'pipe' });
    expect(existsSync(join(dir, 'dist', 'embedded-template', 'template.json'))).toBe(true);

    const port = await freePort();
    const [program, ...args] = command();
    expect(program).toBe('node');
    // The image listens on 0.0.0.0; tests bind loopback only.
    const env: Record<string, string> = {
      ...imageEnv(),
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: join(dir, 'data'),
      ISSUER: `http://127.0.0.1:${port}`,
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
    };
    expect(env.NODE_ENV).toBe('production');
    const server = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      let ready = 0;
      for (let i = 0; i < 120 && ready !== 200; i += 1) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect({ ready, output: ready === 200 ? '' : output }).toEqual({ ready: 200, output: '' });
      const discovery = (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`).then((r) =>
        r.json(),
      )) as { issuer: string };
      expect(discovery.issuer).toBe(`http://127.0.0.1:${port}`);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // Nothing was written beside the data directory (the image's root filesystem can be read-only).
    const expected = new Set(['package-lock.json', ...runtimeCopies(), 'node_modules', 'dist', 'data']);
    expect(readdirSync(dir).filter((name) => !expected.has(name))).toEqual([]);
  }, 240_000);
});

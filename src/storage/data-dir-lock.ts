import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One Gatehouse server per data directory on the embedded default. PGlite is single-process:
 * a second server on the same DATA_DIR joined the first one's database through its socket and
 * rewrote the built-in clients under its own issuer, breaking the first one's /account (issue
 * 15, item 9). The server holds `server.lock`, holding its pid, while it runs; the CLI takes no
 * lock, it joins a running server's database as before. The file is written beside the lock
 * and hard-linked into place: link(2) fails when the name exists (like O_EXCL), and a lock
 * that exists is never half-written.
 */
export const LOCK_FILE = 'server.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: number,
  ) {
    super(
      `another Gatehouse server (pid ${holder}) is using the data directory ${dataDir}; stop it first, or give this one its own DATA_DIR`,
    );
    this.name = 'DataDirLockedError';
  }
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function processRuns(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** link(2), or an O_EXCL create where the file system has no hard links (some volume drivers). */
function linkOrCreate(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes((error as NodeJS.ErrnoException).code ?? ''))
      throw error;
    writeFileSync(to, readFileSync(from), { flag: 'wx', mode: 0o600 });
  }
}

export interface DataDirLock {
  /** Removes the lock file if it is still ours; idempotent. Also runs when the process exits. */
  release(): void;
}

/**
 * Takes the data directory's lock or throws DataDirLockedError. A lock left by a process that
 * no longer runs (killed, crashed) is stale and taken over; so is one naming our own pid: a
 * container's server is often pid 1 on every start, and a lock of ours from an earlier start
 * cannot be a live server, since this process is the one starting.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCK_FILE);
  const mine = `${path}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        linkOrCreate(mine, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = holderOf(path);
        if (holder !== undefined && holder !== process.pid && processRuns(holder))
          throw new DataDirLockedError(dataDir, holder);
        // Stale: taken over. A second failure means another start took it over first.
        if (attempt >= 1) throw new DataDirLockedError(dataDir, holderOf(path) ?? 0);
        rmSync(path, { force: true });
      }
    }
  } finally {
    rmSync(mine, { force: true });
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (holderOf(path) === process.pid) rmSync(path, { force: true });
  };
  // process.exit() after a failed start or a forced shutdown skips close(): remove it then too.
  process.on('exit', release);
  return { release };
}

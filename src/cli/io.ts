import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where CLI output goes; tests pass buffers, main.ts passes the process streams. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** All of standard input, for a secret given as `--client-secret-file -`; absent where there is none. */
  stdin?: () => Promise<string>;
}

/** Bad arguments: one clear line, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `allowNegative`: a boolean flag is also given as `--no-<flag>` (false), for commands that change a stored value. */
export function parseCommand<O extends Options>(
  args: string[],
  options: O,
  positionals = 0,
  extra: { allowNegative?: boolean } = {},
) {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, json: { type: 'boolean' } },
      allowPositionals: positionals > 0,
      strict: true,
      allowNegative: extra.allowNegative ?? false,
    });
    if (parsed.positionals.length > positionals)
      throw new CliUsageError(`unexpected argument: ${parsed.positionals[positionals]}`);
    return parsed;
  } catch (error) {
    if (error instanceof CliUsageError) throw error;
    // Duck-typed: node's parseArgs errors are TypeErrors, which may come from another realm.
    const message = (error as { message?: unknown }).message;
    throw new CliUsageError(
      typeof message === 'string' ? (message.split('\n')[0] ?? 'bad arguments') : 'bad arguments',
    );
  }
}

/** A flag's value as a whole number of seconds; anything else is a usage error. */
export function wholeSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new CliUsageError(`--${flag} must be a whole number of seconds`);
  return Number(value);
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new CliUsageError(`--${flag} is required`);
  return value;
}

export function table(rows: Array<Record<string, string>>): string[] {
  if (rows.length === 0) return ['(none)'];
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map((r) => line(columns.map((c) => r[c] ?? '')))];
}

import { loadConfig, ConfigError } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/schema.js';

/** The lines boot would print for these settings; none when they are valid. */
export function configProblems(overrides: ConfigOverrides, env: Record<string, string> = {}): string[] {
  try {
    loadConfig(env, overrides);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

import { loadConfig, ConfigError } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/schema.js';

/** The lines a boot with these settings would refuse (none when they load). */
export function configProblems(
  env: Record<string, string>,
  overrides: ConfigOverrides | Record<string, unknown> = {},
): string[] {
  try {
    loadConfig(env, overrides as ConfigOverrides);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

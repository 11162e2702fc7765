import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import argon2 from 'argon2';
import { parse as parseYaml } from 'yaml';

export interface Argon2Cost {
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
  verifications: number;
  /** CPU per verification in this process (argon2 runs on the libuv pool, which cpuUsage includes). */
  cpuMsPerVerify: number;
  wallMsPerVerify: number;
}

/**
 * What one argon2id verification costs with Gatehouse's default parameters
 * (config/default.yaml passwords.argon2): each benchmarked sign-in does exactly one.
 * Measured here, in the load generator, so the flow figure can be read net of it.
 */
export async function measureArgon2(root: string, verifications = 20): Promise<Argon2Cost> {
  const config = parseYaml(readFileSync(join(root, 'config/default.yaml'), 'utf8')) as {
    passwords?: { argon2?: { memoryKiB?: number; timeCost?: number; parallelism?: number } };
  };
  const memoryKiB = config.passwords?.argon2?.memoryKiB ?? 19456;
  const timeCost = config.passwords?.argon2?.timeCost ?? 2;
  const parallelism = config.passwords?.argon2?.parallelism ?? 1;
  const hash = await argon2.hash('benchmark password', {
    type: argon2.argon2id as 2,
    memoryCost: memoryKiB,
    timeCost,
    parallelism,
  });
  await argon2.verify(hash, 'benchmark password');
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < verifications; i++) await argon2.verify(hash, 'benchmark password');
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return {
    memoryKiB,
    timeCost,
    parallelism,
    verifications,
    cpuMsPerVerify: Number(((used.user + used.system) / 1000 / verifications).toFixed(1)),
    wallMsPerVerify: Number((wall / verifications).toFixed(1)),
  };
}

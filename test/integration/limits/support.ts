import { randomInt } from 'node:crypto';
import type { AuditEventRow } from '../../../src/storage/entities/audit-event.entity.js';
import type { TestServer } from '../../helpers/server.js';
import { submitLogin, type UserAgent } from '../../helpers/sessions.js';
import type { Page } from '../../helpers/user-agent.js';
import { uniqueEmail } from '../../helpers/factories.js';

/**
 * A fresh client address for X-Forwarded-For (the servers here trust the proxy headers):
 * the PostgreSQL suites share one Redis, so every test counts under addresses of its own.
 */
export const randomIp = (): string => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

export const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip });

/** Audit events of one action, newest first, whatever their subject. */
export async function eventsOf(server: TestServer, action: string): Promise<AuditEventRow[]> {
  return server.gatehouse.admin.audit.query({ action, limit: 100 });
}

/**
 * Wrong-password sign-ins on one login page, one per X-Forwarded-For value, each for a new
 * email (so only the per-address limit can refuse them): the statuses answered, in order.
 */
export async function signInStatuses(ua: UserAgent, page: Page, forwardedFor: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const value of forwardedFor) {
    statuses.push((await submitLogin(ua, page, uniqueEmail(), 'wrong password', { 'x-forwarded-for': value })).status);
  }
  return statuses;
}

/** `count` X-Forwarded-For values, each built from its number (1, 2, …): a client rotating what it writes. */
export const rotating = (count: number, header: (n: number) => string): string[] =>
  Array.from({ length: count }, (_, i) => header(i + 1));

/** What `limit` sign-ins and one more answer when they all count against one address. */
export const refusedAfter = (limit: number): number[] => [...Array<number>(limit).fill(401), 429];

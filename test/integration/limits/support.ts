import { randomInt } from 'node:crypto';
import type { AuditEventRow } from '../../../src/storage/entities/audit-event.entity.js';
import type { TestServer } from '../../helpers/server.js';

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

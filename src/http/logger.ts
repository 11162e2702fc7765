import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.js';

/** JSON logs; anything that may carry a secret is redacted by path. */
export function createLogger(level: Config['log']['level']): Logger {
  return pino({
    level,
    base: { service: 'gatehouse' },
    redact: {
      paths: ['password', '*.password', 'client_secret', '*.client_secret', 'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
  });
}

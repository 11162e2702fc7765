import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/schema.js';

/**
 * JSON logs; anything that may carry a secret is redacted by path. `destination` defaults to
 * stdout (tests pass a stream they read, to prove no secret is ever written).
 */
export function createLogger(level: Config['log']['level'], destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'gatehouse' },
    redact: {
      paths: [
        'password',
        '*.password',
        'client_secret',
        '*.client_secret',
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

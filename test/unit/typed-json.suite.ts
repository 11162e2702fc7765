import { z } from 'zod';
import { parseJsonAs } from '../../src/typed-json.js';

describe('parseJsonAs', () => {
  const shape = z.object({ purpose: z.enum(['register', 'passkey']), userId: z.string().optional() });

  it('returns the value when the text is JSON of the shape', () => {
    expect(parseJsonAs('{"purpose":"passkey","userId":"u1"}', shape)).toEqual({ purpose: 'passkey', userId: 'u1' });
  });

  it.each([
    ['not JSON', '{"purpose":'],
    ['JSON of another shape', '{"purpose":"admin"}'],
    ['a field of the wrong type', '{"purpose":"passkey","userId":7}'],
    ['JSON that is not an object', '"passkey"'],
  ])('returns undefined for %s', (_what, text) => {
    expect(parseJsonAs(text, shape)).toBeUndefined();
  });
});

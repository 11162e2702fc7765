import { lateBound } from '../helpers/late-bound.js';

/** useTestServer's handle (test/helpers/server.ts): the server before its beforeAll and after its afterAll must fail loudly. */
describe('useTestServer handle', () => {
  it('throws a clear error when read before the hook set it, forwards once set, and throws again once taken', () => {
    const late = lateBound<{ issuer: string; close(): string }>('useTestServer: the server');
    expect(() => late.handle.issuer).toThrow('useTestServer: the server is read before its beforeAll set it');
    const server = {
      issuer: 'http://127.0.0.1:1',
      close() {
        return this.issuer;
      },
    };
    late.set(server);
    expect(late.handle.issuer).toBe('http://127.0.0.1:1');
    expect(late.handle.close()).toBe('http://127.0.0.1:1');
    expect({ ...late.handle }).toEqual(server);
    expect('issuer' in late.handle).toBe(true);
    expect(late.take()).toBe(server);
    expect(() => late.handle.issuer).toThrow(/after afterAll/);
    expect(late.take()).toBeUndefined();
  });
});

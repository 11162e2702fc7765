import { kind, owner, samples } from '../../bench/perf-attribution.js';

// The shape `perf script -F tid,period,ip,sym,dso` prints: a header, then the stack leaf first.
const MAIN = 4242;
const script = [
  ` ${MAIN}    1001001 `,
  '\t    ffffffff8a1b2c3d tcp_sendmsg_locked ([kernel.kallsyms])',
  '\t          14b8865 uv__try_write (/usr/bin/node)',
  '\t    7fc4b81aaffd JS:*submit /srv/node_modules/pg/lib/query.js:152:9 (/tmp/perf-4242.map)',
  '\t    7fc4b81a5dbb JS:^handler file:///srv/dist/src/oidc/adapter.js:10:2 (/tmp/perf-4242.map)',
  '',
  ` ${MAIN + 1}    1001001 `,
  '\t          c8eca9 v8::internal::Scavenger::ScavengePage (/usr/bin/node)',
  '\t          7bbbe6 v8::platform::DefaultJobWorker::Run (/usr/bin/node)',
  '',
  ` ${MAIN + 2}    2002002 `,
  '\t            1a2b3 fill_block (/srv/node_modules/argon2/build/Release/argon2.node)',
  '\t          14c05fb uv__work_done (/usr/bin/node)',
  '',
  ` ${MAIN}    1001001 `,
  '\t          dc026b v8::internal::(anonymous namespace)::CaptureAsyncStackTrace (/usr/bin/node)',
  '\t    7fc4b81aa000 JS:*respond file:///srv/dist/src/oidc/userinfo.js:3:1 (/tmp/perf-4242.map)',
  '',
  ` ${MAIN}    1001001 `,
  '\t          14c05fb uv__io_poll (/usr/bin/node)',
  '',
  'not a sample header',
  '\t          14c05fb uv__io_poll (/usr/bin/node)',
].join('\n');

describe('perf sample attribution (bench/perf-attribution.ts)', () => {
  const parsed = samples(script);

  it('reads every sample with its thread, period and stack, leaf first, and skips what is not one', () => {
    expect(parsed.map((s) => [s.tid, s.period, s.stack.length])).toEqual([
      [MAIN, 1001001, 4],
      [MAIN + 1, 1001001, 2],
      [MAIN + 2, 2002002, 2],
      [MAIN, 1001001, 2],
      [MAIN, 1001001, 1],
    ]);
    expect(parsed[3]?.stack[0]).toEqual({
      sym: 'v8::internal::(anonymous namespace)::CaptureAsyncStackTrace',
      dso: '/usr/bin/node',
    });
  });

  it('names the kind of work from the sampled frame', () => {
    expect(parsed.map((s) => kind(s.stack[0]))).toEqual([
      'kernel',
      'GC',
      'argon2 (native)',
      'V8 runtime (C++)',
      'node and libuv (C++)',
    ]);
    expect(kind({ sym: 'Builtins_KeyedLoadIC_Megamorphic', dso: '/usr/bin/node' })).toBe(
      'V8 builtins: property access (inline caches)',
    );
    expect(kind({ sym: 'JS:*dispatch file:///x.js:1:1', dso: '/tmp/perf-1.map' })).toBe(
      'JavaScript, optimised (TurboFan)',
    );
    expect(kind({ sym: 'v8::internal::compiler::GraphReducer::ReduceTop', dso: '/usr/bin/node' })).toBe(
      'V8 compilers and parser',
    );
    // JSON.parse and node's HTTP parser are not V8's compilers.
    expect(kind({ sym: 'v8::internal::JsonParser<unsigned char>::BuildJsonObject', dso: '/usr/bin/node' })).toBe(
      'V8 runtime (C++)',
    );
    expect(kind({ sym: 'node::(anonymous namespace)::Parser::Execute', dso: '/usr/bin/node' })).toBe(
      'node and libuv (C++)',
    );
  });

  it('charges a sample to the nearest JavaScript frame, or to its thread when there is none', () => {
    expect(parsed.map((s) => owner(s, MAIN))).toEqual([
      'pg',
      'background thread: GC',
      'libuv pool: argon2',
      'gatehouse oidc',
      'main thread, no JavaScript on the stack (event loop, GC, I/O)',
    ]);
  });
});

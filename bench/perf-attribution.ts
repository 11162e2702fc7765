/**
 * Attribution of `perf record -g` samples of a node process: what kind of work each sample
 * was, and which package's JavaScript asked for it (bench/perf-summary.ts prints both).
 */

export interface Frame {
  sym: string;
  dso: string;
}
export interface Sample {
  tid: number;
  period: number;
  stack: Frame[];
}

/** The samples of `perf script -F tid,period,ip,sym,dso` output. */
export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    const head = /^\s*(\d+)\s+(\d+)/.exec(lines[0] ?? '');
    if (!head) continue;
    const stack = lines.slice(1).map((line): Frame => {
      const m = /^\s*[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$/.exec(line);
      return { sym: m?.[1] ?? line.trim(), dso: m?.[2] ?? '' };
    });
    out.push({ tid: Number(head[1]), period: Number(head[2]), stack });
  }
  return out;
}

/** The kind of work of the sampled (leaf) frame. */
export function kind(frame: Frame | undefined): string {
  if (!frame) return 'unknown';
  const { sym, dso } = frame;
  if (dso.includes('kernel') || sym.startsWith('[k]')) return 'kernel';
  if (dso.includes('argon2')) return 'argon2 (native)';
  if (sym.startsWith('JS:*')) return 'JavaScript, optimised (TurboFan)';
  if (sym.startsWith('JS:+')) return 'JavaScript, Maglev';
  if (sym.startsWith('JS:')) return 'JavaScript, interpreted or baseline';
  if (/Scaveng|MarkCompact|Marking|Sweep|Heap::|GCTracer|Evacuat|MemoryChunk|RememberedSet|SlotSet/.test(sym))
    return 'GC';
  // V8's own parser and compilers; not JSON.parse (JsonParser), regexp replacement patterns or node's HTTP parser.
  if (
    /compiler::|maglev::|turboshaft::|v8::internal::(Compiler|Parser|PreParser|Scanner|BytecodeGenerator|Parse)|Builtins_CompileLazy/.test(
      sym,
    )
  )
    return 'V8 compilers and parser';
  if (/^Builtins_.*(IC|Megamorphic|Property|Load|Store)/.test(sym))
    return 'V8 builtins: property access (inline caches)';
  if (/^Builtins_.*(Promise|Microtask|Async|Generator|Await)/.test(sym)) return 'V8 builtins: promises and async';
  if (sym.startsWith('Builtins_')) return 'V8 builtins: other (calls, interpreter, strings, regexps)';
  if (dso.includes('libc.so') || dso.includes('libstdc++')) return 'libc and libstdc++ (malloc, memcpy)';
  if (sym.startsWith('v8::')) return 'V8 runtime (C++)';
  if (sym.startsWith('node::') || sym.startsWith('uv_') || sym.startsWith('uv__') || sym.startsWith('llhttp'))
    return 'node and libuv (C++)';
  return `other (${dso.replace(/^.*\//, '') || 'unknown'})`;
}

/** The package of the nearest JavaScript frame: who asked for this work. */
export function owner(sample: Sample, mainTid: number): string {
  for (const { sym } of sample.stack) {
    if (!sym.startsWith('JS:')) continue;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(sym);
    if (pkg?.[1]) return pkg[1];
    if (/ node:/.test(sym)) return 'node (JavaScript)';
    const own = /\/dist\/src\/([^/ :]+)/.exec(sym);
    if (own?.[1]) return `gatehouse ${own[1]}`;
    return 'other JavaScript';
  }
  if (sample.tid !== mainTid) {
    // A helper thread is named by the work anywhere on its stack, in kind()'s words.
    const kinds = new Set(sample.stack.map(kind));
    if (kinds.has('argon2 (native)')) return 'libuv pool: argon2';
    if (kinds.has('GC')) return 'background thread: GC';
    if (kinds.has('V8 compilers and parser')) return 'background thread: compiler';
    return 'background thread: other';
  }
  return 'main thread, no JavaScript on the stack (event loop, GC, I/O)';
}

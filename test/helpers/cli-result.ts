// The checks every end-to-end CLI test makes of a finished `gptlab` process (spawnSync's status and output):
// a refusal is the exit code the README's rule gives, one line on stderr naming the problem, and no stack trace
// (nor a raw "write EPIPE"); a success is exit 0.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';

/** what a test keeps of a finished gptlab process */
export interface CliResult {
  code: number;
  out?: string;
  err: string;
}

/** Asserts a refusal: exit `code`, one line on stderr matching `re`, no stack trace; `what` names the case. */
export function refused(r: CliResult, code: number, re: RegExp, what = ''): void {
  assert.equal(r.code, code, `${what}: ${r.err}`);
  assert.equal(r.err.trim().split('\n').length, 1, `${what}: ${r.err}`);
  assert.match(r.err.trim(), re, what);
  assert.doesNotMatch(r.err, /\n\s+at |EPIPE/, what);
}

/** Asserts exit 0, showing stderr when not. */
export function ok(r: CliResult, what = ''): void {
  assert.equal(r.code, 0, `${what}: ${r.err}`);
}

/** capturingOutput's stdout alone: `fn`'s result and the text it wrote there (its stderr is captured and dropped) */
export async function capturingStdout<T>(fn: () => Promise<T>): Promise<{ result: T; out: string }> {
  const { result, out } = await capturingOutput(fn);
  return { result, out };
}

/**
 * Runs `fn` with what it writes to stdout and stderr captured, and returns both. Only writes made inside `fn`'s own
 * async context are captured (AsyncLocalStorage): the test runner's report, which it may write while `fn` awaits
 * (a command loading its backend), goes on to the real streams.
 */
export async function capturingOutput<T>(fn: () => Promise<T>): Promise<{ result: T; out: string; err: string }> {
  const mine = new AsyncLocalStorage<true>();
  const captured = { out: '', err: '' };
  const streams = [[process.stdout, 'out'], [process.stderr, 'err']] as const;
  const saved = streams.map(([s]) => s.write);
  streams.forEach(([s, k], i) => {
    s.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      if (!mine.getStore()) return saved[i].call(s, chunk, ...rest);
      captured[k] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof s.write;
  });
  try {
    const result = await mine.run(true, fn);
    return { result, ...captured };
  } finally {
    streams.forEach(([s], i) => (s.write = saved[i]));
  }
}

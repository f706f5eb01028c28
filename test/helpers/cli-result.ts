// The checks every end-to-end CLI test makes of a finished `gptlab` process (spawnSync's status and output):
// a refusal is the exit code the README's rule gives, one line on stderr naming the problem, and no stack trace
// (nor a raw "write EPIPE"); a success is exit 0.
import assert from 'node:assert/strict';

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

/**
 * Runs `fn` (a command called in-process) with the text it writes to stdout captured; byte writes (the test
 * runner's own) pass through. Returns its result and that text; stdout is restored even when `fn` throws.
 */
export async function capturingStdout<T>(fn: () => Promise<T>): Promise<{ result: T; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? ((out += s), true) : write(s, ...rest))) as typeof process.stdout.write;
  try {
    const result = await fn();
    return { result, out };
  } finally {
    process.stdout.write = write;
  }
}

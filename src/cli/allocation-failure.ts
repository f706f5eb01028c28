// JavaScript's own out-of-memory errors: what V8 throws when an array, buffer or string asked for is larger
// than it can allocate. Commands turn them into one line naming the flags that set the sizes.

/**
 * Whether `e` is one of V8's allocation failures: a RangeError "Invalid typed array length", "Array buffer
 * allocation failed", "Invalid array length" or "Invalid string length" (a text file's contents over V8's
 * string limit, ~512 MiB); or the wasm backend's tensor storage running past its 4 GiB memory (wasm-heap.ts).
 */
export function isAllocationFailure(e: unknown): boolean {
  if (e instanceof RangeError) return /Invalid typed array length|Array buffer allocation failed|Invalid array length|Invalid string length/.test(e.message);
  return e instanceof Error && /^wasm heap: \d+ more bytes do not fit in a 4 GiB wasm memory/.test(e.message);
}

/** flags that set the size of a model or a batch: an out-of-memory line names those the command was given */
export const SIZE_FLAGS = [
  '--batch-size', '--block-size', '--n-embd', '--n-hidden', '--n-layer', '--n-head', '--context', '--hidden', '--emb-dim',
  '--attn-dim', '--dim', '--intermediate-size', '--student-block-size', '--mini-batch-size', '--max-new-tokens', '--channels',
  '--latent', '--fc', '--glyph-size',
];

/** the size flags given in `argv` with their values: [["--n-hidden", "1000000"], …] */
export function givenSizeFlags(argv: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  argv.forEach((a, i) => {
    const [flag, inline] = a.split('=', 2);
    if (SIZE_FLAGS.includes(flag)) out.push([flag, inline ?? argv[i + 1] ?? '']);
  });
  return out;
}

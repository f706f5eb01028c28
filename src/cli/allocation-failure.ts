// JavaScript's own out-of-memory errors: what V8 throws when an array, buffer or string asked for is larger
// than it can allocate. Commands turn them into one line naming the flags that set the sizes.

/**
 * Whether `e` is one of V8's allocation failures: a RangeError "Invalid typed array length", "Array buffer
 * allocation failed", "Invalid array length" or "Invalid string length" (a text file's contents over V8's
 * string limit, ~512 MiB).
 */
export function isAllocationFailure(e: unknown): boolean {
  return e instanceof RangeError && /Invalid typed array length|Array buffer allocation failed|Invalid array length|Invalid string length/.test(e.message);
}

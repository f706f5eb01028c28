// Checks shared by the tokenizer constructors and loaders, so that an inconsistent vocabulary (from a
// hand-edited or corrupt tokenizer file) is refused with a one-line message naming the field, instead of
// surfacing later as a raw JavaScript error ("Cannot read properties of undefined", "Invalid typed array
// length") or as silently wrong ids. The loaders (index.ts, huggingface.ts) prefix the file name.

/** ids must stay below this: BPE pair keys are left·2^21 + right, and models allocate vocabSize rows */
export const MAX_TOKEN_ID = 2097151;

/** throws `${field}: …` unless `id` is an integer in [0, MAX_TOKEN_ID] */
export function checkId(id: unknown, field: string): asserts id is number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_TOKEN_ID) {
    throw new Error(`${field}: token id ${JSON.stringify(id)} must be an integer in [0, ${MAX_TOKEN_ID}]`);
  }
}

/**
 * Validates a special-token table {text: id}: a plain object of non-empty strings to distinct valid ids.
 * With `range` [from, to), every id must lie in it (e.g. after the ordinary tokens); with `contiguous`,
 * the ids must be exactly from … from + n − 1 (the layout char/word tokenizers assume for vocabSize).
 * Returns the table as a Map. Throws with `field` named.
 */
export function checkSpecials(special: unknown, field: string, from = 0, contiguous = false): Map<string, number> {
  if (special === undefined) return new Map();
  if (special === null || typeof special !== 'object' || Array.isArray(special)) {
    throw new Error(`${field} must be an object mapping token text to ids`);
  }
  const out = new Map<string, number>();
  const seen = new Map<number, string>();
  for (const [s, id] of Object.entries(special)) {
    if (s === '') throw new Error(`${field}: a special token cannot be the empty string`);
    checkId(id, `${field}[${JSON.stringify(s)}]`);
    const other = seen.get(id);
    if (other !== undefined) throw new Error(`${field}: ${JSON.stringify(other)} and ${JSON.stringify(s)} share id ${id}`);
    if (id < from) throw new Error(`${field}[${JSON.stringify(s)}]: id ${id} belongs to an ordinary token (special ids start at ${from})`);
    seen.set(id, s);
    out.set(s, id);
  }
  if (contiguous) {
    for (const id of seen.keys()) {
      if (id >= from + seen.size) {
        throw new Error(`${field}[${JSON.stringify(seen.get(id))}]: id ${id} leaves a gap; special ids must be ${from}…${from + seen.size - 1}`);
      }
    }
  }
  return out;
}

/** throws unless every entry of `list` is a distinct string (`what` describes one, e.g. "character") */
export function checkDistinct(list: readonly string[], field: string, what: string, oneCodePoint = false): void {
  const seen = new Map<string, number>();
  list.forEach((t, i) => {
    if (typeof t !== 'string') throw new Error(`${field}[${i}] must be a string`);
    if (oneCodePoint && Array.from(t).length !== 1) throw new Error(`${field}[${i}] ${JSON.stringify(t)} must be exactly one character`);
    if (t === '') throw new Error(`${field}[${i}]: a ${what} cannot be the empty string`);
    const j = seen.get(t);
    if (j !== undefined) throw new Error(`${field}: ${what} ${JSON.stringify(t)} appears twice (at ${j} and ${i})`);
    seen.set(t, i);
  });
}

/** runs `build`, prefixing any error's message with `source: ` (once) so it names the file */
export function withSource<T>(source: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(msg.startsWith(`${source}:`) || msg.startsWith(`${source} `) ? msg : `${source}: ${msg}`);
  }
}

// A static check for split patterns that can backtrack catastrophically. JavaScript's RegExp is a
// backtracking matcher with no time limit, so a user-supplied pattern such as "(a+)+$" takes minutes on 38
// characters ("aaaa…a!") and hangs a tokenizer. Split patterns come from files (our tokenizer JSON's
// "pattern", a Hugging Face tokenizer.json's Split pre-tokenizer), so they are checked when loaded.
//
// Rule (conservative, after the classic "star height" / ambiguous-repetition criteria): inside the operand of
// a repeating quantifier (one allowing 2 or more repetitions: *, +, {n,m} with m ≥ 2), there must be
//   - no variable-count quantifier (*, +, ?, {n,m} with n ≠ m): "(a+)+", "(a*)*", "(\w+\s?)+$", "(a?)+";
//   - no alternation, unless every branch is a non-empty run of plain characters and no two branches start
//     with the same character (then the branches can only be taken one way): "(a|a)*" is refused,
//     "(?:ab|cd)+" is fine.
// and, in any sequence, no more than 2 unbounded repetitions (*, +, {n,}) that a run of one character can
// be spread over (no required part between them that cannot match that character): "\w*\w*\w*!" takes
// C(n+3, 3) steps to fail on n letters, a polynomial whose degree grows with the run ("\s*[\r\n]+" in
// cl100k is a run of 2). Which characters a class matches is decided on a fixed set of probe characters.
// The real GPT-2, cl100k, o200k and Hugging Face byte-level patterns repeat only single characters or
// classes, so they pass. Some harmless patterns (e.g. "(ab?)+") are refused too; they can be rewritten.
// Source: the textbook analysis of exponential backtracking (e.g. Davis et al., "The Impact of Regular
// Expression Denial of Service (ReDoS) in Practice", 2018: nested quantifiers and quantified overlapping
// alternation).

type Node =
  | { kind: 'char'; ch: string | null; src: string } // one character; ch: the literal, or null (class, \w, .)
  | { kind: 'group'; alts: Node[][]; look: boolean } // (…), (?:…), a lookaround (look), or the whole pattern
  | { kind: 'quant'; min: number; max: number; body: Node; text: string }
  | { kind: 'other' }; // anchors, \b, backreferences: match no characters of their own

/**
 * null when `source` (a JavaScript RegExp source, 'u' flag) is safe by the rule above, otherwise a short
 * description naming the offending part. Assumes the source already compiled (syntax is not re-checked:
 * an unexpected construct is treated conservatively).
 */
export function backtrackingHazard(source: string): string | null {
  const root = new Parser(source).parse();
  return inspect(root, null);
}

/** walks the tree; `repeat` is the innermost enclosing repeating quantifier's text, or null */
function inspect(node: Node, repeat: string | null): string | null {
  if (node.kind === 'quant') {
    if (repeat !== null && node.min !== node.max) return `a variable repetition inside the repeated ${repeat}`;
    const inner = node.max >= 2 ? JSON.stringify(node.text) : repeat;
    return inspect(node.body, inner);
  }
  if (node.kind !== 'group') return null;
  if (repeat !== null && node.alts.length > 1 && !prefixFreeLiterals(node.alts)) {
    return `an alternation whose branches can overlap inside the repeated ${repeat}`;
  }
  for (const alt of node.alts) {
    const run = overlappingRun(alt);
    if (run !== null) return run;
    for (const n of alt) {
      const p = inspect(n, repeat);
      if (p !== null) return p;
    }
  }
  return null;
}

const MAX_RUN = 2;

/**
 * The first sequence of more than MAX_RUN unbounded repetitions that a run of one character c can be
 * spread over: for each probe character c, walking `seq`, an unbounded repetition that can match c adds to
 * the run, and a required part that cannot match c ends it (optional parts, anchors and lookarounds don't).
 */
function overlappingRun(seq: Node[]): string | null {
  const chars = new Set(PROBES);
  for (const n of seq) if (n.kind === 'char' && n.ch !== null) chars.add(n.ch);
  for (const c of chars) {
    let run: string[] = [];
    for (const n of seq) {
      if (n.kind === 'other' || (n.kind === 'group' && n.look)) continue;
      const q = n.kind === 'quant' ? n : null;
      const can = canRun(q ? q.body : n, c);
      if (q !== null && q.max === Infinity && can) {
        run.push(JSON.stringify(q.text));
        if (run.length > MAX_RUN) return `${run.length} repetitions in a row can all match ${JSON.stringify(c)}: ${run.join(', ')}`;
      } else if (!can && (q === null || q.min > 0)) {
        run = [];
      }
    }
  }
  return null;
}

// probe characters: ASCII, and one or more of each common Unicode category (letters of several scripts and
// cases, marks, digits, spaces and separators, format characters, an emoji, private use)
const PROBES = [
  ...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)),
  ...'éßΩжǅʰ中あ한\u0301\u0903٣Ⅻ\u00a0\u2028\u3000\u200b\ufeff\u00ad—«€😀\ue000',
];

/** whether `n` can match a non-empty run of c's (a group: some branch all of whose required parts can) */
function canRun(n: Node, c: string): boolean {
  if (n.kind === 'other') return true;
  if (n.kind === 'char') return matcher(n)(c);
  if (n.kind === 'quant') return n.min === 0 || canRun(n.body, c);
  if (n.look) return true;
  return n.alts.some((alt) => alt.every((i) => canRun(i, c)));
}

const matchers = new WeakMap<Node, (c: string) => boolean>();

function matcher(n: Node & { kind: 'char' }): (c: string) => boolean {
  let m = matchers.get(n);
  if (m) return m;
  if (n.ch !== null) {
    const ch = n.ch;
    m = (c) => c === ch;
  } else {
    try {
      const re = new RegExp(`^(?:${n.src})$`, 'su');
      m = (c) => re.test(c);
    } catch {
      m = () => true;
    }
  }
  matchers.set(n, m);
  return m;
}

/** every branch a non-empty run of literal characters, no two starting with the same one */
function prefixFreeLiterals(alts: Node[][]): boolean {
  const firsts = new Set<string>();
  for (const alt of alts) {
    if (alt.length === 0) return false;
    for (const n of alt) if (n.kind !== 'char' || n.ch === null) return false;
    const f = (alt[0] as { ch: string }).ch;
    if (firsts.has(f)) return false;
    firsts.add(f);
  }
  return true;
}

/** a recursive-descent parser for the subset of RegExp syntax that matters for the check */
class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): Node {
    return this.alternation(false);
  }

  private alternation(look: boolean): Node {
    const alts: Node[][] = [[]];
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === ')') break;
      if (c === '|') { this.i++; alts.push([]); continue; }
      const start = this.i;
      const atom = this.atom();
      alts[alts.length - 1].push(this.quantified(atom, start));
    }
    return { kind: 'group', alts, look };
  }

  private atom(): Node {
    const start = this.i;
    const n = this.atomAt();
    return n.kind === 'char' ? { ...n, src: this.s.slice(start, this.i) } : n;
  }

  private atomAt(): Node {
    const s = this.s;
    const c = s[this.i++];
    if (c === '(') {
      let look = false;
      if (s[this.i] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>
        this.i++;
        if (s[this.i] === '<' && s[this.i + 1] !== '=' && s[this.i + 1] !== '!') this.i = s.indexOf('>', this.i) + 1;
        else {
          look = s[this.i] !== ':';
          this.i += s[this.i] === '<' ? 2 : 1;
        }
      }
      const g = this.alternation(look);
      this.i++; // ')'
      return g;
    }
    if (c === '[') { this.skipClass(); return { kind: 'char', ch: null, src: '' }; }
    if (c === '.') return { kind: 'char', ch: null, src: '' };
    if (c === '^' || c === '$') return { kind: 'other' };
    if (c === '\\') return this.escape();
    // a full code point is one character in 'u' mode
    const cp = s.codePointAt(this.i - 1)!;
    if (cp > 0xffff) this.i++;
    return { kind: 'char', ch: String.fromCodePoint(cp), src: '' };
  }

  private escape(): Node {
    const s = this.s;
    const c = s[this.i++];
    if (c === 'b' || c === 'B') return { kind: 'other' };
    if (c === 'k') { this.i = s.indexOf('>', this.i) + 1; return { kind: 'other' }; }
    if (c >= '1' && c <= '9') { while (/[0-9]/.test(s[this.i] ?? '')) this.i++; return { kind: 'other' }; }
    if (c === 'p' || c === 'P' || (c === 'u' && s[this.i] === '{')) { this.i = s.indexOf('}', this.i) + 1; return { kind: 'char', ch: null, src: '' }; }
    if (c === 'u') { const hex = s.slice(this.i, this.i + 4); this.i += 4; return { kind: 'char', ch: String.fromCharCode(parseInt(hex, 16)), src: '' }; }
    if (c === 'x') { const hex = s.slice(this.i, this.i + 2); this.i += 2; return { kind: 'char', ch: String.fromCharCode(parseInt(hex, 16)), src: '' }; }
    if (c === 'c') { this.i++; return { kind: 'char', ch: null, src: '' }; }
    if ('dDwWsS'.includes(c)) return { kind: 'char', ch: null, src: '' };
    const ctl: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v', '0': '\0' };
    return { kind: 'char', ch: ctl[c] ?? c, src: '' };
  }

  private skipClass(): void {
    const s = this.s;
    while (this.i < s.length && s[this.i] !== ']') this.i += s[this.i] === '\\' ? 2 : 1;
    this.i++;
  }

  /** wraps `atom` in the quantifier that follows it, if any (a lazy '?' suffix changes nothing here) */
  private quantified(atom: Node, start: number): Node {
    const s = this.s;
    const c = s[this.i];
    let min: number, max: number;
    if (c === '*') { min = 0; max = Infinity; this.i++; }
    else if (c === '+') { min = 1; max = Infinity; this.i++; }
    else if (c === '?') { min = 0; max = 1; this.i++; }
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
      if (!m) return atom;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length;
    } else return atom;
    if (s[this.i] === '?') this.i++;
    return { kind: 'quant', min, max, body: atom, text: s.slice(start, this.i) };
  }
}

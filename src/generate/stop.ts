// Streaming text out of a generation loop has two traps:
//  1. a stop string may arrive split across pieces ("<|en" + "d|>"), so text that could still become a stop
//     string must be held back until we know — but no longer than that, or streaming stutters;
//  2. byte-level tokenizers split one character over several tokens, so decoding token by token shows U+FFFD
//     garbage ("é" = 0xC3 0xA9 → "\uFFFD" then "é").
// StreamDecoder fixes (2) and feeds StopStringMatcher, which fixes (1):
//
//   const dec = new StreamDecoder((ids) => tok.decode(ids));
//   const stop = new StopStringMatcher(['\n\n', 'User:']);
//   for (const id of tokens) {
//     const r = stop.push(dec.push(id));
//     write(r.text);
//     if (r.stopped) break;
//   }
//   write(stop.push(dec.flush()).text + stop.flush());
//
// Worked example, stop ['END']: push('abcE') → 'abc' (the 'E' might start END); push('Nx') → 'ENx';
// push('yEN') → 'y'; push('D!') → { text: '', stopped: true, stop: 'END' }.

export interface StopResult {
  /** text that is safe to show now */
  text: string;
  /** true once a stop string has completed; `text` then ends right before it */
  stopped: boolean;
  /** which stop string matched (when stopped) */
  stop?: string;
}

export class StopStringMatcher {
  private readonly stops: string[];
  private held = '';
  private done = false;
  private matched: string | undefined;

  constructor(stops: readonly string[]) {
    for (let i = 0; i < stops.length; i++) {
      if (typeof stops[i] !== 'string' || stops[i].length === 0) {
        throw new Error(`StopStringMatcher: stop string #${i} must be a non-empty string, got ${JSON.stringify(stops[i])}`);
      }
    }
    this.stops = [...stops];
  }

  /** true once a stop string has been seen; later pushes return nothing */
  get stopped(): boolean {
    return this.done;
  }

  /** the stop string that ended the stream, if any */
  get stopString(): string | undefined {
    return this.matched;
  }

  /** Feed the next decoded piece; returns the text that can be emitted now. */
  push(piece: string): StopResult {
    if (this.done) return { text: '', stopped: true, stop: this.matched };
    const buf = this.held + piece;
    // the earliest stop string in the buffer wins; at the same position the longest one (so 'a' vs 'ab' is stable)
    let at = -1;
    let which: string | undefined;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (at < 0 || i < at || (i === at && s.length > which!.length))) {
        at = i;
        which = s;
      }
    }
    if (at >= 0) {
      this.done = true;
      this.matched = which;
      this.held = '';
      return { text: buf.slice(0, at), stopped: true, stop: which };
    }
    let hold = this.partialSuffix(buf);
    // never split a UTF-16 surrogate pair between two emissions
    const cut = buf.length - hold;
    if (cut > 0 && isHighSurrogate(buf.charCodeAt(cut - 1))) hold++;
    this.held = buf.slice(buf.length - hold);
    return { text: buf.slice(0, buf.length - hold), stopped: false };
  }

  /** End of stream: returns whatever was held back (nothing if a stop string matched). */
  flush(): string {
    if (this.done) return '';
    const t = this.held;
    this.held = '';
    return t;
  }

  /** length of the longest suffix of `buf` that is a proper prefix of some stop string */
  private partialSuffix(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      const maxLen = Math.min(s.length - 1, buf.length);
      for (let len = maxLen; len > best; len--) {
        if (buf.endsWith(s.slice(0, len))) {
          best = len;
          break;
        }
      }
    }
    return best;
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * Turns token ids into text pieces one id at a time, robust to (a) characters whose UTF-8 bytes span several
 * tokens and (b) decoders whose output for a token depends on its neighbours (SentencePiece's leading-space
 * handling, WordPiece '##' joins). It uses the "prefix offset" scheme of Hugging Face text-generation-inference:
 * decode a short window of recent ids with and without the new ones and emit the difference, and only when that
 * difference does not end in U+FFFD (an incomplete character).
 * Worked example with byte tokens [0x68, 0xC3, 0xA9]: push → 'h'; push → '' (decodes to 'h\uFFFD', held);
 * push → 'é'.
 */
export class StreamDecoder {
  private ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  /**
   * @param decode the tokenizer's decode
   * @param maxHeld after this many ids without a complete character the bytes are genuinely invalid; emit them
   *   (as U+FFFD) rather than stall the stream. UTF-8 needs at most 4 bytes per character.
   */
  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly maxHeld = 8,
  ) {}

  /** Add one token id; returns the newly completed text (possibly ''). */
  push(id: number): string {
    this.ids.push(id);
    const prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const newText = this.decode(this.ids.slice(this.prefixOffset));
    const held = this.ids.length - this.readOffset;
    if (newText.length > prefixText.length && (!newText.endsWith('\uFFFD') || held >= this.maxHeld)) {
      // a decoder may rewrite the prefix in context; fall back to the common prefix in that (rare) case
      const piece = newText.startsWith(prefixText) ? newText.slice(prefixText.length) : newText.slice(commonPrefix(prefixText, newText));
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      this.compact();
      return piece;
    }
    if (held >= this.maxHeld && !newText.endsWith('\uFFFD')) {
      // ids that decode to nothing (e.g. special tokens skipped by decode): stop re-decoding them forever
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      this.compact();
    }
    return '';
  }

  /** Add several ids; returns the concatenated new text. */
  pushAll(ids: Iterable<number>): string {
    let out = '';
    for (const id of ids) out += this.push(id);
    return out;
  }

  /** End of stream: emit whatever is still held (incomplete bytes come out as U+FFFD). */
  flush(): string {
    const prefixText = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const newText = this.decode(this.ids.slice(this.prefixOffset));
    this.ids = [];
    this.prefixOffset = 0;
    this.readOffset = 0;
    if (newText.length <= prefixText.length) return '';
    return newText.startsWith(prefixText) ? newText.slice(prefixText.length) : newText.slice(commonPrefix(prefixText, newText));
  }

  /** drop ids before the window so memory stays bounded on long generations */
  private compact(): void {
    if (this.prefixOffset > 64) {
      this.ids = this.ids.slice(this.prefixOffset);
      this.readOffset -= this.prefixOffset;
      this.prefixOffset = 0;
    }
  }
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

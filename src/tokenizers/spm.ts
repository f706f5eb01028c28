// llama.cpp's SentencePiece tokenizer (tokenizer.ggml.model "llama"), for GGUF files whose vocabulary has
// multi-character pieces (LLaMA 1/2, TinyLlama, Mistral): the text gets a leading space when
// add_space_prefix is set (llama.cpp's default), spaces become "▁", the text is split into characters, and
// adjacent symbols are merged greedily — always the pair whose concatenation is the highest-scoring piece
// (the leftmost on ties) — while such a piece exists; a final symbol that is not a piece becomes its UTF-8
// bytes as <0xXX> byte tokens. Source: llama.cpp src/llama-vocab.cpp (llm_tokenizer_spm_session).
// Decoding joins the pieces with "▁" as spaces and byte tokens as bytes; it does not strip the prefix space.
import type { EncodeOptions, Tokenizer } from './tokenizer.js';
import { splitSpecial } from './word.js';

const SPACE = '\u2581';
const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder('utf-8');

interface Sym { text: string; prev: number; next: number; alive: boolean }
interface Bigram { left: number; right: number; score: number; text: string }

export interface SpmVocab {
  tokens: string[];
  scores: number[];
  /** tokenizer.ggml.token_type per id (1 normal, 3 control, 6 byte, …) */
  types: number[];
  addSpacePrefix: boolean;
}

export class SpmTokenizer implements Tokenizer {
  readonly type = 'spm';
  readonly specialTokens: Map<string, number>;
  private readonly ids = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly byteOf = new Map<number, number>();

  /** Throws when a byte needed for fallback has no <0xXX> token only at encode time (as llama.cpp). */
  constructor(readonly vocab: SpmVocab) {
    this.specialTokens = new Map();
    vocab.tokens.forEach((t, id) => {
      const ty = vocab.types[id] ?? 1;
      if (ty === 3 || ty === 4) this.specialTokens.set(t, id);
      if (ty === 6 && /^<0x[0-9A-Fa-f]{2}>$/.test(t)) {
        const b = parseInt(t.slice(3, 5), 16);
        this.byteIds[b] = id;
        this.byteOf.set(id, b);
      }
      if (!this.ids.has(t)) this.ids.set(t, id);
    });
  }

  get vocabSize(): number {
    return this.vocab.tokens.length;
  }

  private pushBigram(heap: Bigram[], syms: Sym[], left: number, right: number): void {
    if (left < 0 || right < 0) return;
    const text = syms[left]!.text + syms[right]!.text;
    const id = this.ids.get(text);
    if (id === undefined) return;
    heap.push({ left, right, score: this.vocab.scores[id] ?? 0, text });
  }

  private encodeChunk(text: string, out: number[]): void {
    const chars = Array.from(text);
    const syms: Sym[] = chars.map((c, i) => ({ text: c, prev: i - 1, next: i + 1 < chars.length ? i + 1 : -1, alive: true }));
    const heap: Bigram[] = [];
    for (let i = 1; i < syms.length; i++) this.pushBigram(heap, syms, i - 1, i);
    while (heap.length) {
      let bi = 0; // best: highest score, then leftmost (llama.cpp's llm_bigram_spm comparator)
      for (let i = 1; i < heap.length; i++) {
        const a = heap[i]!, b = heap[bi]!;
        if (a.score > b.score || (a.score === b.score && a.left < b.left)) bi = i;
      }
      const g = heap[bi]!;
      heap[bi] = heap[heap.length - 1]!;
      heap.pop();
      const L = syms[g.left]!, R = syms[g.right]!;
      if (!L.alive || !R.alive || L.text + R.text !== g.text) continue;
      L.text = g.text;
      R.alive = false;
      L.next = R.next;
      if (R.next >= 0) syms[R.next]!.prev = g.left;
      this.pushBigram(heap, syms, L.prev, g.left);
      this.pushBigram(heap, syms, g.left, L.next);
    }
    for (let i = syms.length ? 0 : -1; i >= 0; i = syms[i]!.next) this.resegment(syms[i]!.text, out);
  }

  private resegment(text: string, out: number[]): void {
    const id = this.ids.get(text);
    if (id !== undefined) return void out.push(id);
    for (const b of utf8.encode(text)) {
      const bid = this.byteIds[b]!;
      if (bid < 0) throw new Error(`SentencePiece vocabulary has no byte token <0x${b.toString(16).toUpperCase().padStart(2, '0')}> for ${JSON.stringify(text)}`);
      out.push(bid);
    }
  }

  /** ids as llama.cpp's llama_tokenize(text, add_special = false, parse_special = allowedSpecial) */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    let first = true;
    for (const [seg, special] of splitSpecial(text, this.specialTokens, opts)) {
      if (special) { out.push(this.specialTokens.get(seg)!); continue; }
      const t = (first && this.vocab.addSpacePrefix ? ' ' : '') + seg;
      first = false;
      this.encodeChunk(t.replaceAll(' ', SPACE), out);
    }
    return out;
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const parts: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const b = this.byteOf.get(id);
      if (b !== undefined) parts.push(b);
      else for (const x of utf8.encode(this.idToToken(id).replaceAll(SPACE, ' '))) parts.push(x);
    }
    return Uint8Array.from(parts);
  }

  decode(ids: ArrayLike<number>): string {
    return utf8Decode.decode(this.decodeBytes(ids));
  }

  idToToken(id: number): string {
    const t = this.vocab.tokens[id];
    if (t === undefined) throw new Error(`token id ${id} is out of range for a vocabulary of ${this.vocabSize}`);
    return t;
  }

  toJSON(): unknown {
    return { type: 'spm', ...this.vocab };
  }
}

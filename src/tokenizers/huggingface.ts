// Hugging Face `tokenizer.json` for byte-level BPE and WordPiece, both directions.
//
// Byte-level BPE in HF spells each byte as a printable character (GPT-2's bytes_to_unicode: "Ġ" is the
// space byte 0x20, "Ċ" is "\n"), lists the vocabulary as {token: id} and the merges as pairs of tokens in
// priority order. We write `ignore_merges: true` because tiktoken-style BPE (ours) first looks the whole
// chunk up in the vocabulary, which is what that flag does in HF. Splitting uses a `Split` pre-tokenizer
// with our regex, then `ByteLevel` without its own regex.
import { BPETokenizer } from './bpe.js';
import { GPT2_PATTERN, compilePattern, expandInlineCaseFolding } from './patterns.js';
import { checkId, withSource } from './validate.js';
import { WordPieceTokenizer } from './wordpiece.js';

/** GPT-2's reversible byte → printable character table */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return table;
}

const B2U = bytesToUnicode();
const U2B = new Map(B2U.map((u, b) => [u, b]));

function binToHF(bin: string): string {
  let s = '';
  for (let i = 0; i < bin.length; i++) s += B2U[bin.charCodeAt(i)];
  return s;
}

function hfToBin(tok: string, where: string): string {
  let s = '';
  for (const ch of tok) {
    const b = U2B.get(ch);
    if (b === undefined) throw new Error(`${where}: token ${JSON.stringify(tok)} is not byte-level (character ${JSON.stringify(ch)})`);
    s += String.fromCharCode(b);
  }
  return s;
}

interface AddedToken { id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean }

function added(specials: ReadonlyMap<string, number>): AddedToken[] {
  return [...specials].sort((a, b) => a[1] - b[1]).map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
}

/**
 * The merges of a BPE vocabulary, in rank order. For tokenizers we trained they are stored; for rank-only
 * vocabularies (tiktoken) each token is split by running BPE on its own bytes with only lower ranks allowed,
 * which leaves exactly the two parts it was made from.
 */
export function bpeMerges(tok: BPETokenizer): [string, string][] {
  const bins = tok.tokenBinaries();
  const stored = tok.merges;
  const out: [string, string][] = [];
  if (stored) {
    for (let i = 0; i < stored.length; i += 2) out.push([bins[stored[i]]!, bins[stored[i + 1]]!]);
    return out;
  }
  bins.forEach((bin, id) => {
    if (bin === undefined || bin.length < 2) return;
    let parts = Array.from(bin);
    while (parts.length > 2) {
      let best = Infinity, at = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = tok.rankOf(parts[i] + parts[i + 1]);
        if (r !== undefined && r < id && r < best) { best = r; at = i; }
      }
      if (at < 0) break;
      parts.splice(at, 2, parts[at] + parts[at + 1]);
    }
    if (parts.length === 2) out.push([parts[0], parts[1]]);
  });
  return out;
}

export function bpeToHF(tok: BPETokenizer): object {
  const vocab: Record<string, number> = {};
  tok.tokenBinaries().forEach((bin, id) => { if (bin !== undefined) vocab[binToHF(bin)] = id; });
  const merges = bpeMerges(tok).map(([a, b]) => [binToHF(a), binToHF(b)]);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added(tok.specialTokens),
    normalizer: null,
    pre_tokenizer: tok.pattern === null
      ? byteLevel
      : { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: tok.pattern }, behavior: 'Isolated', invert: false }, byteLevel] },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges,
    },
  };
}

export function wordPieceToHF(tok: WordPieceTokenizer): object {
  const vocab: Record<string, number> = {};
  tok.vocab.forEach((t, i) => { if (!(t in vocab)) vocab[t] = i; });
  const cls = tok.tokenToId('[CLS]'), sep = tok.tokenToId('[SEP]');
  const post = cls !== undefined && sep !== undefined ? {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] } },
  } : null;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added(tok.specialTokens),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: tok.lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: post,
    decoder: { type: 'WordPiece', prefix: tok.prefix, cleanup: true },
    model: { type: 'WordPiece', unk_token: tok.unk, continuing_subword_prefix: tok.prefix, max_input_chars_per_word: tok.maxInputCharsPerWord, vocab },
  };
}

type Json = Record<string, unknown>;

/** the pre-tokenizers of a (possibly nested) Sequence, each with its JSON path for error messages */
function findPreTokenizers(pt: unknown, path = 'pre_tokenizer'): [Json, string][] {
  if (!pt || typeof pt !== 'object' || Array.isArray(pt)) return [];
  const p = pt as Json;
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) {
    return (p.pretokenizers as unknown[]).flatMap((q, i) => findPreTokenizers(q, `${path}.pretokenizers[${i}]`));
  }
  return [[p, path]];
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Reads a Hugging Face tokenizer.json object (byte-level BPE or WordPiece). `source` names the file in
 * errors, which are one line naming the JSON field (model.vocab["x"], model.merges[3], added_tokens[0].id, …).
 */
export function tokenizerFromHF(json: unknown, source = 'tokenizer.json'): BPETokenizer | WordPieceTokenizer {
  return withSource(source, () => {
    const j = json as Json;
    const model = j?.model as Json | undefined;
    if (!model || typeof model !== 'object' || Array.isArray(model)) throw new Error('no "model" object; not a Hugging Face tokenizer.json');
    const vocab = model.vocab as Record<string, number> | undefined;
    if (!vocab || typeof vocab !== 'object' || Array.isArray(vocab)) throw new Error('model.vocab must be an object {token: id}');
    for (const [t, id] of Object.entries(vocab)) checkId(id, `model.vocab[${JSON.stringify(t)}]`);
    const type = model.type ?? (model.merges ? 'BPE' : model.continuing_subword_prefix ? 'WordPiece' : undefined);
    if (type === 'WordPiece') return wordPieceFromHF(j, model, vocab);
    if (type !== 'BPE') throw new Error(`model type ${JSON.stringify(type)} is not supported (byte-level BPE and WordPiece are)`);
    return bpeFromHF(j, model, vocab);
  });
}

/** added_tokens marked special, as {content: id}; every entry checked */
function hfSpecials(j: Json): Record<string, number> {
  const list = j.added_tokens ?? [];
  if (!Array.isArray(list)) throw new Error('added_tokens must be an array');
  const specials: Record<string, number> = Object.create(null); // "__proto__" is a possible token text
  list.forEach((a: unknown, i) => {
    if (!a || typeof a !== 'object') throw new Error(`added_tokens[${i}] must be an object`);
    const t = a as Partial<AddedToken>;
    if (typeof t.content !== 'string' || t.content === '') throw new Error(`added_tokens[${i}].content must be a non-empty string`);
    checkId(t.id, `added_tokens[${i}].id`);
    if (t.special) specials[t.content] = t.id;
  });
  return specials;
}

/** a WordPiece model: ids must cover 0 … n−1 once each; typed options; errors name the JSON field */
function wordPieceFromHF(j: Json, model: Json, vocab: Record<string, number>): WordPieceTokenizer {
  const arr: string[] = [];
  for (const [t, id] of Object.entries(vocab)) {
    if (arr[id] !== undefined) throw new Error(`model.vocab: id ${id} is given to both ${JSON.stringify(arr[id])} and ${JSON.stringify(t)}`);
    arr[id] = t;
  }
  for (let i = 0; i < arr.length; i++) if (arr[i] === undefined) throw new Error(`model.vocab: WordPiece vocab has no token with id ${i}`);
  const norm = j.normalizer as Json | null;
  const lowercase = norm && typeof norm === 'object' && norm.type === 'BertNormalizer' ? norm.lowercase !== false : false;
  const want: Record<string, string> = { unk_token: 'string', continuing_subword_prefix: 'string', max_input_chars_per_word: 'number' };
  for (const k of Object.keys(want)) {
    const v = model[k];
    if (v !== undefined && v !== null && typeof v !== want[k]) throw new Error(`model.${k} must be a ${want[k]}, got ${JSON.stringify(v)}`);
  }
  const opts = {
    lowercase,
    unk: (model.unk_token as string | null) ?? '[UNK]',
    prefix: (model.continuing_subword_prefix as string | null) ?? '##',
    maxInputCharsPerWord: (model.max_input_chars_per_word as number | null) ?? 100,
  };
  try {
    return new WordPieceTokenizer(arr, opts);
  } catch (e) {
    throw new Error(`model: ${(e as Error).message}`);
  }
}

/** the split regex of a byte-level BPE, checked for safety (its JSON path named in errors), or null */
function hfPattern(j: Json): string | null {
  const pts = findPreTokenizers(j.pre_tokenizer);
  const bl = pts.find(([p]) => p.type === 'ByteLevel');
  if (!bl) throw new Error('only byte-level BPE is supported (no ByteLevel pre-tokenizer found)');
  const split = pts.find(([p]) => p.type === 'Split' && p.pattern && typeof p.pattern === 'object' && typeof (p.pattern as Json).Regex === 'string');
  if (!split) return bl[0].use_regex === false ? null : GPT2_PATTERN;
  const pattern = expandInlineCaseFolding((split[0].pattern as Json).Regex as string);
  compilePattern(pattern, `${split[1]}.pattern.Regex`);
  return pattern;
}

/**
 * A byte-level BPE model: vocab tokens spelt with GPT-2's byte characters, merges as "a b" or ["a", "b"]
 * naming vocab tokens (own properties only), ids in merge order; errors name the JSON field.
 */
function bpeFromHF(j: Json, model: Json, vocab: Record<string, number>): BPETokenizer {
  const specials = hfSpecials(j);
  const pattern = hfPattern(j);
  const ranks = new Map<string, number>();
  for (const [t, id] of Object.entries(vocab)) {
    if (own(specials, t)) continue;
    ranks.set(hfToBin(t, `model.vocab`), id);
  }
  const rawMerges = model.merges ?? [];
  if (!Array.isArray(rawMerges)) throw new Error('model.merges must be an array');
  const merges: number[] = [];
  let ordered = true, compact = true, last = -1;
  rawMerges.forEach((m: unknown, i) => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new Error(`model.merges[${i}] must be "a b" or ["a", "b"]`);
    }
    const [x, y] = pair as [string, string];
    if (!own(vocab, x) || !own(vocab, y) || !own(vocab, x + y)) throw new Error(`model.merges[${i}] ${JSON.stringify(pair)} uses a token missing from the vocab`);
    const r = vocab[x + y];
    if (r <= last) ordered = false;
    last = r;
    if (r !== 256 + i) compact = false;
    merges.push(vocab[x], vocab[y]);
  });
  // tiktoken-style BPE ranks tokens by id, so ids must follow merge order (true for GPT-2 and our own files)
  if (!ordered) throw new Error('model.merges: BPE merges are not in increasing id order; such vocabularies are not supported');
  let bytesFirst = true;
  for (let b = 0; b < 256 && bytesFirst; b++) if (ranks.get(String.fromCharCode(b)) !== b) bytesFirst = false;
  const name = typeof j.name === 'string' ? j.name : 'bpe';
  const opts = { name, pattern, special: specials };
  try {
    if (compact && bytesFirst && ranks.size === 256 + rawMerges.length) return BPETokenizer.fromMerges(merges, opts);
    return new BPETokenizer(ranks, opts);
  } catch (e) {
    const msg = (e as Error).message.replace(/^field "special"/, 'added_tokens').replace(/^field "pattern"/, 'pre_tokenizer');
    throw new Error(msg.startsWith('added_tokens') || msg.startsWith('pre_tokenizer') ? msg : `model.vocab: ${msg}`);
  }
}

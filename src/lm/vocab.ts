// The vocabulary of an n-gram model: words (or token ids written as decimal strings) ↔ dense ids, with the
// three special words of ARPA models. `<s>` opens every sentence and is only ever context; `</s>` closes it and
// is predicted like any word; `<unk>` stands for every word the model never saw (KenLM, SRILM).
//   Vocabulary.fromSentences([['人工智能', '让'], ['人工智能', '是']])
//     → <unk> 0, <s> 1, </s> 2, 人工智能 3, 让 4, 是 5
// A token-id vocabulary (`Vocabulary.forIds(V)`) names ids 0 … V−1 "0" … "V−1" and adds a hidden `<s>` as id V
// (the start of the training stream, so that Kneser–Ney's continuation counts are defined there); it has no
// `</s>` and no `<unk>` — every id is a word.

export const UNK = '<unk>';
export const BOS = '<s>';
export const EOS = '</s>';

export class Vocabulary {
  readonly words: string[] = [];
  private readonly index = new Map<string, number>();
  /** ids of the special words, −1 where absent */
  bos = -1;
  eos = -1;
  unk = -1;

  /** word → id, adding it when new */
  add(word: string): number {
    let id = this.index.get(word);
    if (id === undefined) {
      id = this.words.length;
      this.words.push(word);
      this.index.set(word, id);
      if (word === BOS) this.bos = id;
      else if (word === EOS) this.eos = id;
      else if (word === UNK) this.unk = id;
    }
    return id;
  }

  /** id of a word, or −1 */
  get(word: string): number {
    return this.index.get(word) ?? -1;
  }

  /** id of a word; unknown words → `<unk>`. Throws when the vocabulary has no `<unk>`. */
  lookup(word: string): number {
    const id = this.index.get(word);
    if (id !== undefined) return id;
    if (this.unk < 0) throw new Error(`vocabulary: unknown word ${JSON.stringify(word)} and no <unk>`);
    return this.unk;
  }

  get size(): number {
    return this.words.length;
  }

  /** how many words can be predicted: all but `<s>` (the |V| of add-k and of Kneser–Ney's uniform floor) */
  get predictable(): number {
    return this.words.length - (this.bos >= 0 ? 1 : 0);
  }

  /** `<unk>`, `<s>`, `</s>` then the words of the sentences in order of first appearance (as lmplz numbers them) */
  static fromSentences(sentences: readonly (readonly string[])[]): Vocabulary {
    const v = Vocabulary.withSpecials();
    for (const s of sentences) for (const w of s) v.add(w);
    return v;
  }

  /** a vocabulary holding only `<unk>`, `<s>`, `</s>` */
  static withSpecials(): Vocabulary {
    const v = new Vocabulary();
    v.add(UNK);
    v.add(BOS);
    v.add(EOS);
    return v;
  }

  /** token ids 0 … V−1 named by their decimal strings, then a hidden `<s>` (id V). Throws on V < 1. */
  static forIds(V: number): Vocabulary {
    if (!Number.isInteger(V) || V < 1) throw new Error(`vocabulary: size must be a positive integer, got ${V}`);
    const v = new Vocabulary();
    for (let i = 0; i < V; i++) v.add(String(i));
    v.add(BOS);
    return v;
  }
}

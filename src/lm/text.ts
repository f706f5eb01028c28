// Text → sentences of words for the n-gram models: one sentence per line, words separated by spaces or tabs
// (as KenLM's lmplz and query read their input). `<s>` and `</s>` are added by the model, so they may not
// appear in the text.

export interface SentenceOptions {
  /** named in errors ("corpus.txt:12: …"); default "text" */
  file?: string;
  /** what an empty (or blank) line is: skipped (default), an empty sentence "<s> </s>" (KenLM), or an error */
  emptyLines?: 'skip' | 'sentence' | 'error';
}

/**
 * Splits a text into sentences. Throws `FILE:LINE: problem` for `<s>`/`</s>` in the text or, with
 * emptyLines 'error', for an empty line. A final newline does not make an extra empty line.
 */
export function sentencesFromText(text: string, opts: SentenceOptions = {}): string[][] {
  const file = opts.file ?? 'text';
  const mode = opts.emptyLines ?? 'skip';
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const out: string[][] = [];
  lines.forEach((line, i) => {
    const words = line.split(/[ \t\r]+/).filter((w) => w !== '');
    for (const w of words) {
      if (w === '<s>' || w === '</s>') throw new Error(`${file}:${i + 1}: ${w} is reserved for sentence boundaries`);
    }
    if (words.length === 0) {
      if (mode === 'error') throw new Error(`${file}:${i + 1}: empty line`);
      if (mode === 'skip') return;
    }
    out.push(words);
  });
  return out;
}

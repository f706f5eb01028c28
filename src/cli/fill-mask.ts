// gptlab fill-mask CKPT "text with [MASK]" …: the pretrained BERT's most likely tokens for each [MASK] of each
// text, with probabilities, as transformers' fill-mask pipeline lists them.
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { loadCheckpoint } from '../train/checkpoint.node.js';
import { registerBertTypes } from '../models/bert-type.js';
import { registerModelType } from '../models/registry.js';
import { BertForMaskedLM } from '../models/bert-heads.js';
import { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { noGrad } from '../tensor/tensor.js';

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'BERT checkpoint or run folder (gptlab train --arch bert)' },
  text: { type: 'string', positional: true, help: 'text with one or more [MASK] (more texts may follow: each is filled)' },
  topK: { type: 'int', default: 5, min: 1, help: 'candidates per [MASK]' },
  ...BACKEND_OPTS,
};

export interface MaskFill {
  /** position of the [MASK] among the input pieces ([CLS] is 0) */
  position: number;
  candidates: { token: string; id: number; prob: number }[];
}

/**
 * The top-k tokens for every [MASK] of `text` ([CLS] text [SEP], [MASK] written literally). Throws when the
 * text holds no [MASK] or is longer than the model's positions.
 */
export function fillMask(model: BertForMaskedLM, tok: WordPieceTokenizer, text: string, topK = 5): MaskFill[] {
  const mask = tok.tokenToId('[MASK]'), cls = tok.tokenToId('[CLS]'), sep = tok.tokenToId('[SEP]');
  if (mask === undefined || cls === undefined || sep === undefined) throw new Error('fill-mask: the vocabulary lacks [MASK], [CLS] or [SEP]');
  const ids = [cls, ...tok.encode(text, { allowedSpecial: new Set(['[MASK]']) }), sep];
  const where = ids.flatMap((id, i) => (id === mask ? [i] : []));
  if (!where.length) throw new Error('fill-mask: the text has no [MASK]');
  if (ids.length > model.config.blockSize) throw new Error(`fill-mask: ${ids.length} pieces are more than the model's ${model.config.blockSize} positions`);
  model.eval();
  const logits = noGrad(() => model.run({ ids: Int32Array.from(ids), B: 1, T: ids.length }).logits.data.slice());
  const V = model.config.vocabSize;
  return where.map((p) => {
    const row = logits.subarray(p * V, (p + 1) * V);
    let m = -Infinity, s = 0;
    for (const x of row) m = Math.max(m, x);
    for (const x of row) s += Math.exp(x - m);
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => row[b] - row[a]).slice(0, topK);
    return { position: p, candidates: order.map((id) => ({ id, token: tok.idToToken(id), prob: Math.exp(row[id] - m) / s })) };
  });
}

export async function fillMaskCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'fill-mask', { rest: true });
  if (maybeHelp(o, () => helpText('fill-mask', "a BERT checkpoint's guesses for each [MASK]", OPTS, 'gptlab fill-mask CHECKPOINT "text with [MASK]" ["another [MASK]" …] [--top-k 5]'))) return 0;
  if (!o.checkpoint) throw new UsageError('fill-mask: give a BERT checkpoint (e.g. runs/bert from gptlab train --arch bert --demo)');
  const texts = typeof o.text === 'string' ? [o.text, ...o._] : [];
  if (!texts.length) throw new UsageError('fill-mask: give a text with [MASK], e.g. "the cat sat on the [MASK]."');
  const noMask = texts.findIndex((t) => !t.includes('[MASK]'));
  if (noMask >= 0) throw new UsageError(`fill-mask: text ${noMask + 1} (${JSON.stringify(texts[noMask])}) has no [MASK], e.g. "the cat sat on the [MASK]."`);
  await setupBackend(o);
  registerBertTypes(registerModelType);
  const ck = loadCheckpoint(o.checkpoint as string);
  if (!(ck.model instanceof BertForMaskedLM) || !(ck.tokenizer instanceof WordPieceTokenizer)) throw new Error(`${o.checkpoint}: not a BERT masked-language model (model type ${ck.model.type})`);
  const fills = texts.map((t) => fillMask(ck.model as BertForMaskedLM, ck.tokenizer as WordPieceTokenizer, t, o.topK as number));
  fills.forEach((fs, i) => {
    if (texts.length > 1) process.stdout.write(`${i ? '\n' : ''}${texts[i]}\n`);
    for (const f of fs) {
      process.stdout.write(`[MASK] at piece ${f.position}:\n`);
      for (const c of f.candidates) process.stdout.write(`  ${c.token.padEnd(16)} ${c.prob.toFixed(4)}\n`);
    }
  });
  return 0;
}

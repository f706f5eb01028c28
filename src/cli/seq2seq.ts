// gptlab seq2seq train|translate: an RNN encoder–decoder with attention (src/models/seq2seq.ts) trained on a
// parallel corpus (TSV/JSONL pairs, or the built-in Chinese→English grammar), and translation with greedy
// or beam search, printing the translation and optionally writing the attention heatmap as SVG.
//   gptlab seq2seq train --attention dot --cell lstm --out runs/zh-en
//   gptlab seq2seq translate runs/zh-en "我爱中国" --beam 4 --attention-svg attn.svg     → I love China
import { writeFileAtomicSync } from '../formats/atomic.node.js';
import { UNK, type Seq2seqVocab } from '../models/seq2seq-vocab.js';
import { helpText, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { checkBytes } from '../train/memory-bounds.js';
import { OPTIMIZER_OPTS, optimizerOptions } from './optimizer-flags.js';
import { BACKEND_OPTS, checkOutputFile, maybeHelp, setupBackend } from './common.js';
import { loadSeq2seq, runSeq2seqTrain, SEQ2SEQ_DEV_FRACTION, SEQ2SEQ_MODEL_DEFAULTS, SEQ2SEQ_TRAIN_DEFAULTS, type Seq2seqJob, type Seq2seqModelOptions } from '../train/seq2seq-job.node.js';
import { beamDecode, greedyDecode, type Translation } from '../models/seq2seq-decode.js';
import { heatmapSVG } from '../eval/heatmap-svg.js';
import type { TrainConfig } from '../train/trainer.js';

const M = SEQ2SEQ_MODEL_DEFAULTS, T = SEQ2SEQ_TRAIN_DEFAULTS as TrainConfig;

const TRAIN_OPTS: OptTable = {
  data: { type: 'string', help: 'pair file: TSV (source<TAB>target) or JSONL {"src","tgt"} (default: the built-in Chinese→English grammar)' },
  dev: { type: 'string', help: 'dev pair file (default: the last --dev-fraction of --data)' },
  devFraction: { type: 'number', default: SEQ2SEQ_DEV_FRACTION, min: 0, below: 1, help: 'share of the pairs held out for dev loss and BLEU (a resumed run keeps its own unless given)' },
  srcLevel: { type: 'string', default: 'auto', choices: ['auto', 'char', 'word'], help: 'source vocabulary: char, word, or auto (char for Chinese)' },
  tgtLevel: { type: 'string', default: 'auto', choices: ['auto', 'char', 'word'], help: 'target vocabulary: char, word, or auto' },
  out: { type: 'string', help: 'run folder (default runs/seq2seq)' },
  resume: { type: 'bool', help: 'continue the run in --out from its last checkpoint (its model and vocabularies stay; training flags given change its settings)' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  attention: { type: 'string', default: M.attention, choices: ['additive', 'dot'], help: 'additive (Bahdanau) or dot (Luong)' },
  cell: { type: 'string', default: M.cell, choices: ['gru', 'lstm'], help: 'recurrent cell of encoder and decoder' },
  unidirectional: { type: 'bool', help: 'a one-direction encoder (default bidirectional)' },
  hidden: { type: 'int', default: M.hidden, min: 1, help: 'recurrent state width' },
  embDim: { type: 'int', default: M.embDim, min: 1, help: 'token embedding width' },
  attnDim: { type: 'int', default: M.attnDim, min: 1, help: 'additive attention width' },
  maxLen: { type: 'int', default: M.blockSize, min: 2, help: 'longest sentence in tokens (longer pairs are left out; decoding stops there)' },
  bleuSample: { type: 'int', default: 200, min: 0, help: 'dev pairs translated for BLEU at each evaluation' },
  maxIters: { type: 'int', default: T.maxIters, min: 1, help: 'training steps' },
  batchSize: { type: 'int', default: T.batchSize, min: 1, max: 65536, help: 'pairs per step (drawn with replacement), at most 65,536' },
  lr: { type: 'number', default: T.lr, above: 0, help: 'peak learning rate' },
  minLr: { type: 'number', default: T.minLr, min: 0, help: 'final learning rate' },
  warmupIters: { type: 'int', default: T.warmupIters, min: 0, help: 'warmup steps' },
  weightDecay: { type: 'number', default: T.weightDecay, min: 0, help: 'weight decay: decoupled for adamw and muon, L2 for the other optimizers' },
  gradClip: { type: 'number', default: T.gradClip, min: 0, help: 'gradient norm clip (0 = off)' },
  evalInterval: { type: 'int', default: T.evalInterval, min: 1, help: 'dev loss, BLEU and checkpoint every N steps' },
  patience: { type: 'int', default: 0, min: 0, help: 'early stopping patience in evaluations (0 = off)' },
  seed: { type: 'int', ...SEED_RANGE, default: 1337, help: 'random seed' },
  ...OPTIMIZER_OPTS,
  quiet: { type: 'bool', help: 'no progress bar' },
  ...BACKEND_OPTS,
};

const TRANSLATE_OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'seq2seq checkpoint or run folder (uses best/)' },
  beam: { type: 'int', default: 1, min: 1, max: 64, help: 'beam width (1 = greedy)' },
  attentionSvg: { type: 'string', help: 'write the attention heatmap (rows target tokens, columns source tokens) here (a new file, unless --force)' },
  force: { type: 'bool', help: 'overwrite an existing --attention-svg file' },
  ...BACKEND_OPTS,
};

const TRAIN_USAGE = 'gptlab seq2seq train [--data pairs.tsv] [--attention additive|dot] [--cell gru|lstm] --out DIR';
const TRANSLATE_USAGE = 'gptlab seq2seq translate CKPT "TEXT" [--beam 4] [--attention-svg FILE]   (e.g. CKPT "我爱中国")';
const USAGE = `${TRAIN_USAGE}\n       ${TRANSLATE_USAGE}`;

const TRAIN_KEYS = ['maxIters', 'batchSize', 'lr', 'minLr', 'warmupIters', 'weightDecay', 'gradClip', 'evalInterval', 'patience', 'seed'] as const;

/** the model's shape from the flags: each setting and the flag that sets it */
function modelOptions(o: ParsedArgs): Partial<Seq2seqModelOptions> {
  const all: [keyof Seq2seqModelOptions, string, unknown][] = [
    ['attention', 'attention', o.attention], ['cell', 'cell', o.cell], ['bidirectional', 'unidirectional', !o.unidirectional], ['hidden', 'hidden', o.hidden],
    ['embDim', 'embDim', o.embDim], ['attnDim', 'attnDim', o.attnDim], ['blockSize', 'maxLen', o.maxLen], ['seed', 'seed', o.seed],
  ];
  // a resumed run keeps its model: only the flags given now are passed on, and must describe it (seq2seq-job)
  return Object.fromEntries(all.filter(([, flag]) => !o.resume || o._given.has(flag)).map(([k, , v]) => [k, v]));
}

/**
 * Refuses model sizes whose parameters, with their gradients and two optimizer moments, would need more than
 * MAX_RUN_BYTES (checkBytes) before any data is read: encoder and decoder gate matrices (LSTM's four gates, both encoder
 * directions) and the additive attention's projections (the vocabularies' rows, unknown yet, left out).
 */
function checkSeq2seqSize(o: ParsedArgs): void {
  const h = o.hidden as number, e = o.embDim as number, a = o.attnDim as number, dirs = o.unidirectional ? 1 : 2;
  const params = 4 * h * (e + h) * dirs + 4 * h * (e + h * (dirs + 1)) + a * h * (dirs + 1);
  checkBytes('the parameters with their gradients and optimizer moments', 16 * params, '--hidden/--emb-dim/--attn-dim');
}

/** the job of `seq2seq train`; a resumed run keeps its model, dev share and training settings unless given now */
function trainJob(o: ParsedArgs): Seq2seqJob {
  if (!o.resume) checkSeq2seqSize(o);
  const train: Record<string, unknown> = {};
  const kept = (k: string): boolean => !!o.resume && !o._given.has(k); // a resumed run keeps its own setting
  for (const k of TRAIN_KEYS) if (!kept(k)) train[k] = o[k];
  return {
    data: o.data as string | undefined, dev: o.dev as string | undefined, devFraction: kept('devFraction') ? undefined : (o.devFraction as number),
    srcLevel: (kept('srcLevel') ? 'auto' : o.srcLevel) as Seq2seqJob['srcLevel'], tgtLevel: (kept('tgtLevel') ? 'auto' : o.tgtLevel) as Seq2seqJob['tgtLevel'],
    out: (o.out as string | undefined) ?? 'runs/seq2seq', resume: !!o.resume, force: !!o.force, model: modelOptions(o),
    train: { ...(train as Partial<TrainConfig>), ...optimizerOptions(o, 'seq2seq train') }, bleuSample: o.bleuSample as number, quiet: !!o.quiet,
  };
}

/**
 * Refuses text with pieces the model's source vocabulary lacks (they would be read as <unk>, silently changing
 * the sentence): one line naming the first few of them, as sample refuses characters its tokenizer lacks.
 */
export function checkSourceText(text: string, src: Seq2seqVocab): number[] {
  const ids = src.encode(text), pieces = src.pieces(text);
  const unknown = [...new Set(pieces.filter((p, i) => ids[i] === UNK && p !== '<unk>'))];
  if (!unknown.length) return ids;
  const what = src.level === 'word' ? 'word' : 'character';
  const shown = unknown.slice(0, 5).map((p) => JSON.stringify(p)).join(', ') + (unknown.length > 5 ? `, … (${unknown.length} in all)` : '');
  const lower = src.level === 'word' && unknown.some((p) => p !== p.toLowerCase() && src.encode(p.toLowerCase())[0] !== UNK) ? ' (its words are case-sensitive: try lower case)' : '';
  throw new UsageError(`seq2seq translate: the model's source vocabulary (${src.pieceCount} ${what}s of its training pairs) lacks the ${what}${unknown.length > 1 ? 's' : ''} ${shown}${lower}; give text spelt in it`);
}

/** Translates `text` with a checkpoint; prints the translation, writes the heatmap when asked. */
export function translateCommand(ckpt: string, text: string, beam: number, svg: string | undefined, log: (l: string) => void): Translation {
  const ck = loadSeq2seq(ckpt);
  const ids = checkSourceText(text, ck.src);
  if (!ids.length) throw new UsageError('seq2seq translate: the text to translate is empty');
  ck.model.eval();
  const t = beam > 1 ? beamDecode(ck.model, ids, beam) : greedyDecode(ck.model, [ids])[0];
  const out = ck.tgt.decode(t.ids);
  log(out);
  if (!t.ids.length) process.stderr.write(`note: the model ended the translation at once (<eos> first): an empty line; ${ckpt} may need more training\n`);
  if (svg) {
    const rows = [...t.ids.map((i) => ck.tgt.token(i)), '<eos>'].slice(0, t.attention.length);
    writeFileAtomicSync(svg, heatmapSVG(t.attention, {
      rowLabels: rows, colLabels: ck.src.pieces(text), title: `${text} → ${out}`, rowAxis: 'target', colAxis: 'source',
    }));
    log(`wrote ${svg} (attention: ${t.attention.length} target × ${ids.length} source tokens)`);
  }
  return t;
}

/** a note for each flag given that the other settings leave unused (--attn-dim with dot attention, --dev-fraction with --dev) */
function ignoredSeq2seqFlags(o: ParsedArgs): string[] {
  const notes: string[] = [];
  if (o._given.has('attnDim') && o.attention === 'dot') notes.push('note: --attn-dim sizes additive attention only; ignored with --attention dot (dot attention has no weights of its own)');
  if (o._given.has('devFraction') && o.dev !== undefined) notes.push(`note: --dev-fraction is ignored with --dev ${o.dev as string}: the dev pairs are that file's, and every pair of --data trains`);
  return notes;
}

export async function seq2seqCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'train') {
    const o = parseArgs(rest, TRAIN_OPTS, 'seq2seq train');
    if (maybeHelp(o, () => helpText('seq2seq train', 'train an RNN encoder–decoder with attention on sentence pairs', TRAIN_OPTS, TRAIN_USAGE))) return 0;
    const job = trainJob(o);
    process.stdout.write(`backend: ${await setupBackend(o)}\n`);
    for (const note of ignoredSeq2seqFlags(o)) process.stdout.write(note + '\n');
    const res = await runSeq2seqTrain(job);
    return res.outcome === 'interrupted' ? 130 : 0;
  }
  if (sub === 'translate') {
    const o = parseArgs(rest, TRANSLATE_OPTS, 'seq2seq translate', { rest: true });
    if (maybeHelp(o, () => helpText('seq2seq translate', 'translate a sentence with a seq2seq checkpoint', TRANSLATE_OPTS, TRANSLATE_USAGE))) return 0;
    if (!o.checkpoint) throw new UsageError('seq2seq translate: give a checkpoint (e.g. runs/seq2seq from gptlab seq2seq train)');
    if (o._.length !== 1) throw new UsageError(`seq2seq translate: give one sentence to translate (in quotes), got ${o._.length}`);
    if (o.attentionSvg !== undefined) {
      checkOutputFile(o.attentionSvg as string, '--attention-svg', 'seq2seq translate', { regularOnly: true });
      if (!/\.svg$/i.test(o.attentionSvg as string)) throw new UsageError(`seq2seq translate: --attention-svg ${o.attentionSvg as string}: give a file name ending in .svg`);
      if (!o.force) checkOutputFile(o.attentionSvg as string, '--attention-svg', 'seq2seq translate', { regularOnly: true, refuseExisting: true }); // an existing .svg: only with --force
    }
    await setupBackend(o);
    translateCommand(o.checkpoint as string, o._[0], o.beam as number, o.attentionSvg as string | undefined, (l) => process.stdout.write(l + '\n'));
    return 0;
  }
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(`gptlab seq2seq — translation with an RNN encoder–decoder and attention\n\nusage: ${USAGE}\n`);
    return 0;
  }
  throw new UsageError(`seq2seq: give a subcommand, train or translate (got ${sub === undefined ? 'none' : JSON.stringify(sub)})`);
}

// gptlab sft: continue a pretrained checkpoint on chat data (or the built-in Q&A set), loss on assistant
// tokens only; reports held-out accuracy before and after on the built-in set.
import fs from 'node:fs';
import path from 'node:path';
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { ProgressBar } from '../train/progress.node.js';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.node.js';
import { checkpointFiles } from '../train/checkpoint.js';
import { readTextFile } from '../formats/text-file.node.js';
import { encodeChats, heldOutAccuracy, SftTrainer, SFT_DEFAULTS, withChatVocabulary } from '../train/sft.js';
import { formatChatDataError, parseChatData, type Conversation } from '../data/chat.js';
import { defaultSftData } from '../data/sft-default.js';
import { lossCurveSVG } from '../eval/plot.js';
import { writeFileAtomicSync } from '../formats/atomic.node.js';

const D = SFT_DEFAULTS;
const OPTS: OptTable = {
  base: { type: 'string', help: 'pretrained checkpoint or run folder (e.g. runs/demo)' },
  data: { type: 'string', help: 'chat data: JSON or JSONL conversations of {role, content} messages (default: built-in Q&A)' },
  out: { type: 'string', default: 'runs/chat', help: 'run folder for the fine-tuned model' },
  devFraction: { type: 'number', default: 0.05, help: 'share of --data conversations held out for dev loss' },
  evalExamples: { type: 'int', default: 100, help: 'held-out questions for the accuracy check (built-in set)' },
  maxIters: { type: 'int', default: D.maxIters, help: 'training steps' },
  batchSize: { type: 'int', default: D.batchSize, help: 'conversations per step' },
  lr: { type: 'number', default: D.lr, help: 'peak learning rate' },
  minLr: { type: 'number', default: D.minLr, help: 'final learning rate' },
  warmupIters: { type: 'int', default: D.warmupIters, help: 'warmup steps' },
  weightDecay: { type: 'number', default: D.weightDecay, help: 'AdamW weight decay' },
  gradClip: { type: 'number', default: D.gradClip, help: 'gradient norm clip (0 = off)' },
  evalInterval: { type: 'int', default: D.evalInterval, help: 'dev loss and checkpoint every N steps' },
  patience: { type: 'int', default: D.patience, help: 'early stopping patience in evaluations (0 = off)' },
  seed: { type: 'int', default: D.seed, help: 'random seed' },
  ...BACKEND_OPTS,
};

export async function sftCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'sft');
  if (maybeHelp(o, () => helpText('sft', 'supervised fine-tuning on chat data', OPTS, 'gptlab sft --base CKPT [--data FILE] --out DIR'))) return 0;
  if (!o.base) throw new UsageError('sft: give --base CHECKPOINT (a pretrained model, e.g. runs/demo from gptlab train --demo)');
  for (const k of ['maxIters', 'batchSize', 'evalInterval'] as const) if ((o[k] as number) < 1) throw new UsageError(`sft: --${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} must be at least 1`);
  const say = (s: string): boolean => process.stdout.write(s + '\n');
  say(`backend: ${await setupBackend(o)}`);
  const base = loadCheckpoint(o.base as string);

  let train: Conversation[], dev: Conversation[];
  const builtin = defaultSftData({ seed: 1 });
  const heldOut = builtin.heldOut.slice(0, o.evalExamples as number);
  if (o.data) {
    const file = o.data as string;
    const parsed = parseChatData(readTextFile(file, 'chat data file'), file);
    for (const e of parsed.errors.slice(0, 20)) process.stderr.write(`skipped: ${formatChatDataError(e)}\n`);
    if (parsed.errors.length > 20) process.stderr.write(`… and ${parsed.errors.length - 20} more malformed records\n`);
    say(`data: ${file}: kept ${parsed.summary.kept} conversations, skipped ${parsed.summary.skipped}`);
    if (!parsed.conversations.length) throw new Error(`${file}: no valid conversations to train on`);
    const nDev = Math.floor(parsed.conversations.length * (o.devFraction as number));
    dev = parsed.conversations.slice(0, nDev);
    train = parsed.conversations.slice(nDev);
  } else {
    train = builtin.train.map((e) => ({ messages: e.messages }));
    dev = builtin.heldOut.slice(o.evalExamples as number).map((e) => ({ messages: e.messages }));
    say(`data: built-in Q&A (sums, differences and facts of an invented world): ${train.length} train, ${dev.length} dev, ${heldOut.length} held-out questions`);
  }

  const allText = [...train, ...dev, ...heldOut].flatMap((c) => c.messages.map((m) => m.content)).join('') + '\n';
  const { model, tokenizer, added } = withChatVocabulary(base.model, base.tokenizer, allText);
  if (added.length) say(`vocabulary: added ${added.join(' ')} (${tokenizer.vocabSize} tokens now)`);
  const T = model.config.blockSize;
  const tr = encodeChats(train, tokenizer, T), dv = encodeChats(dev, tokenizer, T);
  if (tr.tooLong + dv.tooLong) say(`note: ${tr.tooLong + dv.tooLong} conversations are longer than the context (${T} tokens) and were left out`);

  const before = o.data ? null : await heldOutAccuracy(model, tokenizer, heldOut);
  if (before) say(`held-out accuracy before SFT: ${(100 * before.accuracy).toFixed(1)}% (${heldOut.length} questions)`);

  const trainer = new SftTrainer(model, tr.examples, dv.examples, {
    maxIters: o.maxIters as number, batchSize: o.batchSize as number, lr: o.lr as number, minLr: o.minLr as number,
    warmupIters: o.warmupIters as number, weightDecay: o.weightDecay as number, gradClip: o.gradClip as number,
    evalInterval: o.evalInterval as number, patience: o.patience as number, seed: o.seed as number,
  });
  const out = o.out as string;
  fs.mkdirSync(out, { recursive: true });
  const meta = { kind: 'sft', base: o.base, data: o.data ?? 'built-in' };
  const bar = new ProgressBar({ label: 'sft' });
  let lastDev = NaN;
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  let outcome;
  try {
    outcome = await trainer.run({
      onStep: (step, loss) => bar.update({ step, total: trainer.config.maxIters, loss, devLoss: lastDev }),
      onEval: (step, devLoss, improved) => {
        lastDev = devLoss;
        bar.pause();
        bar.log(`step ${step}: dev loss (assistant tokens) ${devLoss.toFixed(4)}${improved ? ' (best)' : ''}`);
        if (improved) saveCheckpoint(path.join(out, 'best'), checkpointFiles(model, tokenizer, { meta: { ...meta, step, devLoss } }));
      },
      shouldStop: () => stop,
    });
  } finally {
    process.off('SIGINT', onSigint);
    bar.done();
  }
  saveCheckpoint(path.join(out, 'checkpoint'), checkpointFiles(model, tokenizer, { meta: { ...meta, step: trainer.step } }));
  const h = trainer.history;
  writeFileAtomicSync(path.join(out, 'loss.svg'), lossCurveSVG([
    { name: 'train (batch)', points: h.filter((p) => p.train !== undefined).map((p) => [p.step, p.train!]) },
    { name: 'dev', points: h.filter((p) => p.dev !== undefined).map((p) => [p.step, p.dev!]) },
  ], { title: 'gptlab sft', xLabel: 'step', yLabel: 'loss on assistant tokens' }));
  say(`${outcome} at step ${trainer.step} in ${((performance.now() - t0) / 1000).toFixed(1)} s; best dev loss ${trainer.bestDevLoss.toFixed(4)}; saved ${out}/{best,checkpoint,loss.svg}`);
  if (!o.data) {
    // score the best checkpoint, as chat/serve will load it
    const best = loadCheckpoint(out);
    const after = await heldOutAccuracy(best.model, best.tokenizer, heldOut);
    say(`held-out accuracy after SFT: ${(100 * after.accuracy).toFixed(1)}% (before: ${(100 * before!.accuracy).toFixed(1)}%)`);
    say(`  by kind: ${Object.entries(after.byKind).map(([k, v]) => `${k} ${v.right}/${v.total}`).join(', ')}`);
    for (let i = 0; i < 3; i++) {
      const q = heldOut[i].messages[heldOut[i].messages.length - 2].content;
      say(`  Q: ${q}  A: ${after.answers[i].trim()}`);
    }
  }
  return outcome === 'interrupted' ? 130 : 0;
}

// gptlab eval: how well a checkpoint predicts a text — mean loss over every full window, perplexity, bits per
// byte and bits per character (both comparable across tokenizers), and top-1/top-5 next-token accuracy.
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, checkSplitFlag, maybeHelp, refuseRewardModel, setupBackend } from './common.js';
import { loadModelFile } from '../train/model-file.node.js';
import { readTextFile } from '../formats/text-file.node.js';
import { evaluateText } from '../eval/evaluate.js';
import { parseSplit } from '../data/dataset.js';

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint folder or run folder' },
  dequantize: { type: 'bool', help: 'GGUF files: dequantize the weights to float32 at load (faster decoding, more memory)' },
  data: { type: 'string', positional: true, help: 'UTF-8 text file to score' },
  batchSize: { type: 'int', default: 8, min: 1, help: 'windows per forward pass' },
  maxTokens: { type: 'int', default: 0, min: 0, help: 'score at most this many tokens (0 = all)' },
  part: { type: 'string', default: 'all', choices: ['all', 'train', 'dev', 'test'], help: 'score all of the text, or one part of a split by position: train, dev or test' },
  split: { type: 'string', default: '90/5/5', help: 'the train/dev/test split --part refers to (use the one the model was trained with)' },
  json: { type: 'bool', help: 'print one JSON object instead of text' },
  ...BACKEND_OPTS,
};

export async function evalCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'eval');
  if (maybeHelp(o, () => helpText('eval', 'loss and perplexity of a checkpoint on a text', OPTS, 'gptlab eval CHECKPOINT --data FILE [--json]'))) return 0;
  if (!o.checkpoint) throw new UsageError('eval: give a checkpoint folder');
  if (!o.data) throw new UsageError('eval: give --data FILE (the text to score)');
  if ((o.batchSize as number) < 1) throw new UsageError(`eval: --batch-size must be at least 1, got ${o.batchSize}`);
  const part = o.part as string;
  if (!['all', 'train', 'dev', 'test'].includes(part)) throw new UsageError(`eval: --part must be all, train, dev or test, got "${part}"`);
  checkSplitFlag(o.split as string, 'eval');
  const split = parseSplit(o.split as string);
  await setupBackend(o);
  const ck = loadModelFile(o.checkpoint as string, { dequantize: !!o.dequantize });
  refuseRewardModel(ck.model.type, o.checkpoint as string, 'eval');
  for (const n of ck.notes) process.stderr.write(`note: ${n}\n`);
  const text = readTextFile(o.data as string);
  const r = evaluateText(ck.model, ck.tokenizer, text, {
    batchSize: o.batchSize as number, maxTokens: o.maxTokens as number, source: o.data as string,
    ...(part === 'all' ? {} : { split, part: part as 'train' | 'dev' | 'test' }),
  });
  if (o.json) process.stdout.write(JSON.stringify({ checkpoint: o.checkpoint, data: o.data, part, ...r }) + '\n');
  else {
    process.stdout.write(
      `${o.data}${part === 'all' ? '' : ` (${part} part of ${o.split})`}: ${r.tokens.toLocaleString('en')} tokens scored\n` +
        `  mean loss   ${r.loss.toFixed(4)} nats/token\n  perplexity  ${r.perplexity.toFixed(3)}\n` +
        `  bits/byte   ${r.bitsPerByte.toFixed(4)}\n  bits/char   ${r.bitsPerChar.toFixed(4)}\n  top-1 acc   ${(100 * r.top1).toFixed(2)}%\n  top-5 acc   ${(100 * r.top5).toFixed(2)}%\n`,
    );
  }
  return 0;
}

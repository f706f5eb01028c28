// gptlab sample: text from a checkpoint, streamed as it is generated.
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { loadCheckpoint } from '../train/checkpoint.node.js';
import { generateText } from '../generate/generate.js';
import { beamSearch } from '../generate/beam.js';

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint folder or run folder (uses best/ when present)' },
  prompt: { type: 'string', default: '\n', help: 'text to continue' },
  maxTokens: { type: 'int', default: 300, alias: 'n', help: 'tokens to generate' },
  temperature: { type: 'number', default: 0.8, help: '0 = greedy' },
  topK: { type: 'int', default: 0, help: 'keep the k most likely tokens (0 = off)' },
  topP: { type: 'number', default: 1, help: 'nucleus sampling threshold (1 = off)' },
  repetitionPenalty: { type: 'number', default: 1, help: 'Hugging Face repetition penalty (1 = off)' },
  stop: { type: 'string', help: 'stop before this string (may repeat the flag: last one wins; use JSON list in --config)' },
  seed: { type: 'int', default: 1337, help: 'random seed' },
  samples: { type: 'int', default: 1, help: 'number of samples' },
  noCache: { type: 'bool', help: 'recompute the whole context each step instead of using the KV cache' },
  numBeams: { type: 'int', default: 1, help: 'beam search with this many beams (> 1; deterministic, ignores the samplers)' },
  lengthPenalty: { type: 'number', default: 1, help: 'beam search: score = log-prob / length^penalty' },
  earlyStopping: { type: 'bool', help: 'beam search: stop once num-beams hypotheses are finished' },
  ...BACKEND_OPTS,
};

export async function sampleCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'sample');
  if (maybeHelp(o, () => helpText('sample', 'generate text from a checkpoint', OPTS, 'gptlab sample CHECKPOINT [options]'))) return 0;
  if (!o.checkpoint) throw new UsageError('sample: give a checkpoint folder (e.g. runs/demo)');
  if ((o.maxTokens as number) < 0) throw new UsageError(`sample: --max-tokens must be ≥ 0, got ${o.maxTokens}`);
  if ((o.temperature as number) < 0) throw new UsageError(`sample: --temperature must be ≥ 0, got ${o.temperature}`);
  const topP = o.topP as number;
  if (!(topP > 0 && topP <= 1)) throw new UsageError(`sample: --top-p must be in (0, 1], got ${topP}`);
  await setupBackend(o);
  const ck = loadCheckpoint(o.checkpoint as string);
  const out = process.stdout;
  try {
    ck.tokenizer.encode(o.prompt as string, { allowedSpecial: 'all' });
  } catch (e) {
    throw new UsageError(`sample: the checkpoint's ${ck.tokenizer.type} tokenizer cannot encode the prompt: ${(e as Error).message}`);
  }
  const beams = o.numBeams as number;
  if (beams < 1) throw new UsageError(`sample: --num-beams must be at least 1, got ${beams}`);
  if (beams > 1) {
    const prompt = ck.tokenizer.encode(o.prompt as string);
    const r = beamSearch(ck.model, prompt, {
      numBeams: beams, maxNewTokens: o.maxTokens as number, lengthPenalty: o.lengthPenalty as number,
      earlyStopping: !!o.earlyStopping, numReturnSequences: Math.min(beams, o.samples as number),
    });
    r.sequences.forEach((seq, i) => {
      if (i > 0) out.write('\n---------------\n');
      out.write(`${o.prompt as string}${ck.tokenizer.decode(seq.ids)}\n[beam score ${seq.score.toFixed(4)}]`);
    });
    out.write('\n');
    return 0;
  }
  for (let s = 0; s < (o.samples as number); s++) {
    if (s > 0) out.write('\n---------------\n');
    out.write(o.prompt as string);
    await generateText(ck.model, ck.tokenizer, o.prompt as string, {
      maxNewTokens: o.maxTokens as number, temperature: o.temperature as number, topK: o.topK as number, topP,
      repetitionPenalty: o.repetitionPenalty as number, seed: (o.seed as number) + s,
      stop: o.stop ? [o.stop as string] : [], useCache: !o.noCache, onText: (t) => out.write(t), yieldEvery: 0,
    });
  }
  out.write('\n');
  return 0;
}

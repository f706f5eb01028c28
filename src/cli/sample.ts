// gptlab sample: text from a checkpoint, streamed as it is generated. Every option works on both decoding
// paths (sampling and --num-beams > 1 beam search) or is refused up front on the one that cannot honour it:
// the samplers (--temperature, --top-k, --top-p, penalties) and --seed do not apply to beam search (it is
// deterministic), nor --no-cache (it always uses the KV cache); --num-beams is at most 64;
// --length-penalty and --early-stopping only to it (as Hugging Face's generate);
// --stop and the chat end-of-turn token end a sample and a beam hypothesis alike.
import { helpText, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { BACKEND_OPTS, maybeHelp, refuseRewardModel, setupBackend } from './common.js';
import { loadModelFile } from '../train/model-file.node.js';
import { generateText } from '../generate/generate.js';
import { beamSearch } from '../generate/beam.js';
import { checkSamplingOptions, type SamplingOptions } from '../generate/sampling.js';
import { chatTemplate } from '../data/chat.js';

/** the most beams --num-beams takes: each beam holds its own KV cache (Hugging Face users rarely go past ~32) */
const MAX_BEAMS = 64;

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint folder or run folder (uses best/ when present)' },
  dequantize: { type: 'bool', help: 'GGUF files: dequantize the weights to float32 at load (faster decoding, more memory)' },
  prompt: { type: 'string', default: '\n', help: 'text to continue' },
  maxTokens: { type: 'int', default: 300, alias: 'n', help: 'tokens to generate' },
  temperature: { type: 'number', default: 0.8, help: '0 = greedy' },
  topK: { type: 'int', default: 0, help: 'keep the k most likely tokens (0 = off)' },
  topP: { type: 'number', default: 1, help: 'nucleus sampling threshold in [0, 1] (1 = off; 0 = greedy)' },
  repetitionPenalty: { type: 'number', default: 1, help: 'Hugging Face repetition penalty (1 = off)' },
  presencePenalty: { type: 'number', default: 0, help: 'OpenAI presence penalty in [-2, 2] over the generated tokens' },
  frequencyPenalty: { type: 'number', default: 0, help: 'OpenAI frequency penalty in [-2, 2] over the generated tokens' },
  stop: { type: 'string', help: 'stop before this string (may repeat the flag: last one wins; use JSON list in --config)' },
  seed: { type: 'int', ...SEED_RANGE, default: 1337, help: 'random seed (sampling; refused with beam search, which is deterministic)' },
  samples: { type: 'int', default: 1, min: 1, help: 'number of samples (beam search: sequences returned, at most --num-beams)' },
  noCache: { type: 'bool', help: 'recompute the whole context each step instead of using the KV cache (sampling; beam search always uses it)' },
  numBeams: { type: 'int', default: 1, min: 1, max: MAX_BEAMS, help: 'beam search with this many beams (> 1; deterministic: the sampler flags and --seed are refused)' },
  lengthPenalty: { type: 'number', default: 1, help: 'beam search only (refused without --num-beams > 1): score = log-prob / length^penalty' },
  earlyStopping: { type: 'bool', help: 'beam search only (refused without --num-beams > 1): stop once num-beams hypotheses are finished' },
  ...BACKEND_OPTS,
};

/** flag name → SamplingOptions key, for the sampler flags (beam search, being deterministic, refuses them) */
const SAMPLER_FLAGS: [string, keyof SamplingOptions][] = [
  ['--temperature', 'temperature'], ['--top-k', 'topK'], ['--top-p', 'topP'], ['--repetition-penalty', 'repetitionPenalty'],
  ['--presence-penalty', 'presencePenalty'], ['--frequency-penalty', 'frequencyPenalty'],
];

/** the sampler flags, checked before any work: one line naming the flag */
function samplingFromFlags(o: ParsedArgs): SamplingOptions {
  const s: SamplingOptions = {
    temperature: o.temperature as number, topK: o.topK as number, topP: o.topP as number, repetitionPenalty: o.repetitionPenalty as number,
    presencePenalty: o.presencePenalty as number, frequencyPenalty: o.frequencyPenalty as number,
  };
  if (!(s.temperature! >= 0)) throw new UsageError(`sample: --temperature must be ≥ 0 (0 = greedy), got ${s.temperature}`);
  if (!(s.topP! >= 0 && s.topP! <= 1)) throw new UsageError(`sample: --top-p must be in [0, 1], got ${s.topP}`);
  if (!(s.topK! >= 0)) throw new UsageError(`sample: --top-k must be ≥ 0 (0 = off), got ${s.topK}`);
  try {
    checkSamplingOptions(s);
  } catch (e) {
    const flag = SAMPLER_FLAGS.find(([, k]) => (e as Error).message.includes(`${k} `));
    throw new UsageError(`sample: ${flag ? flag[0] : 'sampling option'}: ${(e as Error).message.replace(/^sampling: /, '')}`);
  }
  return s;
}

/** flag name → option key, for the flags only beam search reads (Hugging Face's length_penalty, early_stopping) */
const BEAM_FLAGS: [string, string][] = [['--length-penalty', 'lengthPenalty'], ['--early-stopping', 'earlyStopping']];

/** the flags given that the other decoding path reads, as "--a, --b do" or "--a does" */
function givenFlags(o: ParsedArgs, flags: [string, string][]): { list: string; verb: string; them: string } | null {
  const given = flags.filter(([, k]) => o._given.has(k)).map(([f]) => f);
  if (!given.length) return null;
  return { list: given.join(', '), verb: given.length > 1 ? 'do' : 'does', them: given.length > 1 ? 'them' : 'it' };
}

/**
 * Refuses, before any work, a flag the chosen decoding path would ignore: sampler flags, --seed and --no-cache with beam search,
 * beam-search flags without it, and more --samples than beam search returns (--num-beams).
 */
function checkDecodingPath(o: ParsedArgs): void {
  const beams = o.numBeams as number;
  if (beams === 1) {
    const g = givenFlags(o, BEAM_FLAGS);
    if (g) throw new UsageError(`sample: ${g.list} ${g.verb} not apply to sampling, only to beam search; add --num-beams N (N > 1) or drop ${g.them}`);
    return;
  }
  const g = givenFlags(o, [...SAMPLER_FLAGS, ['--seed', 'seed']]);
  if (g) throw new UsageError(`sample: ${g.list} ${g.verb} not apply to beam search (--num-beams ${beams}), which is deterministic; drop ${g.them} or use --num-beams 1`);
  if (o._given.has('noCache')) throw new UsageError(`sample: --no-cache does not apply to beam search (--num-beams ${beams}), which always uses the KV cache; drop it or use --num-beams 1`);
  if ((o.samples as number) > beams) throw new UsageError(`sample: --samples ${o.samples} is more than --num-beams ${beams}: beam search returns at most one sequence per beam`);
}

export async function sampleCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'sample');
  if (maybeHelp(o, () => helpText('sample', 'generate text from a checkpoint', OPTS, 'gptlab sample CHECKPOINT [options]'))) return 0;
  if (!o.checkpoint) throw new UsageError('sample: give a checkpoint folder (e.g. runs/demo)');
  if ((o.maxTokens as number) < 0) throw new UsageError(`sample: --max-tokens must be ≥ 0, got ${o.maxTokens}`);
  const sampling = samplingFromFlags(o);
  checkDecodingPath(o);
  const beams = o.numBeams as number;
  await setupBackend(o);
  const ck = loadModelFile(o.checkpoint as string, { dequantize: !!o.dequantize });
  refuseRewardModel(ck.model.type, o.checkpoint as string, 'sample');
  for (const n of ck.notes) process.stderr.write(`note: ${n}\n`);
  const out = process.stdout;
  const prompt = o.prompt as string;
  let promptIds: number[];
  try {
    promptIds = ck.tokenizer.encode(prompt, { allowedSpecial: 'all' });
  } catch (e) {
    throw new UsageError(`sample: the checkpoint's ${ck.tokenizer.type} tokenizer cannot encode the prompt: ${(e as Error).message}`);
  }
  // a chat model ends its reply with the template's end-of-turn token: stop there (it is not printed)
  const endId = ck.tokenizer.specialTokens.get(chatTemplate.endOfTurn);
  const stopTokens = endId !== undefined ? [endId] : [];
  const stop = o.stop ? [o.stop as string] : [];
  if (beams > 1) {
    if (promptIds.length === 0) throw new UsageError('sample: beam search needs a non-empty --prompt');
    const r = (o.maxTokens as number) === 0 ? null : beamSearch(ck.model, promptIds, {
      numBeams: beams, maxNewTokens: o.maxTokens as number, lengthPenalty: o.lengthPenalty as number,
      earlyStopping: !!o.earlyStopping, numReturnSequences: o.samples as number,
      stopTokens, stop, decode: (ids) => ck.tokenizer.decode(ids),
    });
    (r?.sequences ?? [{ text: '', score: 0 }]).forEach((seq, i) => {
      if (i > 0) out.write('\n---------------\n');
      out.write(`${prompt}${seq.text ?? ''}\n[beam score ${seq.score.toFixed(4)}]`);
    });
    out.write('\n');
    return 0;
  }
  for (let s = 0; s < (o.samples as number); s++) {
    if (s > 0) out.write('\n---------------\n');
    out.write(prompt);
    await generateText(ck.model, ck.tokenizer, prompt, {
      ...sampling, maxNewTokens: o.maxTokens as number, seed: (o.seed as number) + s, stopTokens,
      stop, useCache: !o.noCache, onText: (t) => out.write(t), yieldEvery: 0,
    });
  }
  out.write('\n');
  return 0;
}

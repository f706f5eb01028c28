// gptlab rm train | rm score: a reward model (scalar head on a chat model, Bradley–Terry loss on preference
// pairs; held-out pairwise accuracy), and scoring responses with one.
import { jsonArrayHint, notValidJson } from '../data/jsonl.js';
import { givenOrOwn, helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { ADAPT_OPTS, adaptOptions, LORAPLUS_OPTS, trainOpts, trainOptions } from './lora.js';
import { readTextFile } from '../formats/text-file.node.js';
import { noGrad } from '../tensor/tensor.js';
import { PREFERENCE_DEV_FRACTION, RM_DEFAULTS, RM_READOUT, runPreferenceJob } from '../align/preference-job.node.js';
import { promptOf } from '../data/preference.js';
import type { ChatMessage } from '../data/chat.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { REWARD_READOUTS, type RewardReadout } from '../align/reward-readout.js';
import { RewardModel } from '../align/reward-model.js';
import { loadAnyCheckpoint } from '../align/lora-checkpoint.node.js';
import { registerRewardModelType } from '../align/reward-type.js';
import { encodePrompt, endOfTurnId } from '../align/pairs.js';
import { inEvalMode } from '../generate/decoder.js';

const TRAIN_OPTS: OptTable = {
  base: { type: 'string', help: 'the chat (SFT) checkpoint or run folder the reward model starts from' },
  data: { type: 'string', help: 'preference JSONL: {prompt|messages, chosen, rejected} or {prompt|messages, responses: [best…worst]} (default: built-in)' },
  out: { type: 'string', default: 'runs/rm', help: 'run folder' },
  resume: { type: 'bool', help: 'continue the run in --out from its last checkpoint' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  devFraction: { type: 'number', default: PREFERENCE_DEV_FRACTION, min: 0, below: 1, help: 'share of --data pairs held out for pairwise accuracy (the built-in set holds out its own questions)' },
  readout: { type: 'string', choices: REWARD_READOUTS, help: `how the score is read: last (TRL's last-token head) or last+loglik (plus gated response log-likelihoods); default ${RM_READOUT}, a resumed run keeps its own` },
  lmCoef: { type: 'number', min: 0, max: 100, help: 'weight of a language-model loss on each ranking\'s preferred response, added to the pairwise loss to keep what the backbone knows (Yang et al. 2024, GRM\'s SFT regulariser); default 0 (off), a resumed run keeps its own unless given' },
  ...trainOpts(RM_DEFAULTS),
  ...ADAPT_OPTS,
  ...LORAPLUS_OPTS,
  ...BACKEND_OPTS,
};

const SCORE_OPTS: OptTable = {
  ckpt: { type: 'string', positional: true, help: 'a reward-model run folder or checkpoint' },
  prompt: { type: 'string', help: 'the user\'s question' },
  response: { type: 'string', help: 'the response to score' },
  file: { type: 'string', help: 'JSONL of {prompt|messages, response} (or chosen/rejected pairs) to score, one line of output each' },
  ...BACKEND_OPTS,
};

async function trainRm(argv: string[]): Promise<number> {
  const o = parseArgs(argv, TRAIN_OPTS, 'rm train');
  if (maybeHelp(o, () => helpText('rm train', 'train a reward model on preference pairs', TRAIN_OPTS, 'gptlab rm train --base CKPT [--data pairs.jsonl] --out DIR'))) return 0;
  if (!o.base && !o.resume) throw new UsageError('rm train: give --base CHECKPOINT (a chat model, e.g. runs/chat from gptlab sft)');
  const train = trainOptions(o, 'rm train');
  const adapt = adaptOptions(o, 'rm train');
  process.stdout.write(`backend: ${await setupBackend(o)}\n`);
  const res = await runPreferenceJob({
    kind: 'rm', base: o.base as string | undefined, data: o.data as string | undefined, out: o.out as string, resume: !!o.resume,
    force: !!o.force, devFraction: givenOrOwn(o, 'devFraction') as number | undefined, train, adapt, readout: o.readout as RewardReadout | undefined, lmCoef: o.lmCoef as number | undefined,
  });
  if (res.metrics) process.stdout.write(`${res.heldOut ? 'held-out' : 'training-set (no held-out pairs)'} pairwise accuracy ${(100 * res.metrics.accuracy).toFixed(1)}%, mean margin ${res.metrics.margin.toFixed(3)}\n`);
  return res.outcome === 'interrupted' ? 130 : 0;
}

/** one (prompt, response) to score; `src` names where its prompt, its response and the whole came from, for errors */
interface ScoreItem {
  prompt: ChatMessage[];
  response: string;
  label: string;
  src: { prompt: string; response: string; item: string };
}

/** (prompt, response) items of a JSONL file, each line's problems named as FILE:LINE: field */
function fileItems(file: string): ScoreItem[] {
  const text = readTextFile(file, 'file to score');
  if (!text.trim()) throw new Error(`${file}: the file to score is empty (only blank lines)`);
  const lines = text.split('\n');
  return lines.flatMap((line, i) => {
    if (!line.trim()) return [];
    const where = `${file}:${i + 1}`, hint = jsonArrayHint(i, line);
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${where}: ${notValidJson(e, line)}${hint}`);
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new Error(`${where}: must be a JSON object {prompt|messages, response}${hint}`);
    const prompt = promptOf(rec, (f, m) => {
      throw new Error(`${where}: ${f ? `${f}: ` : ''}${m}`);
    })!;
    const pair = !('response' in rec) && ('chosen' in rec || 'rejected' in rec);
    if (!pair && !('response' in rec)) throw new Error(`${where}: response: missing (give "response", or "chosen" and "rejected")`);
    const rs = pair ? { chosen: rec.chosen, rejected: rec.rejected } : { response: rec.response };
    const promptSrc = `${where}: ${'messages' in rec ? 'messages' : 'prompt'}`;
    return Object.entries(rs).map(([k, r]): ScoreItem => {
      if (r === undefined) throw new Error(`${where}: ${k}: missing`);
      if (typeof r !== 'string' || !r.trim()) throw new Error(`${where}: ${k}: must be a non-empty string${typeof r === 'string' ? '' : `, got ${Array.isArray(r) ? 'a list' : r === null ? 'null' : typeof r}`}`);
      return { prompt, response: r, label: `${i + 1}${k === 'response' ? '' : ` ${k}`}`, src: { prompt: promptSrc, response: `${where}: ${k}`, item: `${where}: ${k}` } };
    });
  });
}

/** (prompt, response) items from --prompt/--response or a JSONL file */
function scoreItems(o: Record<string, unknown>): ScoreItem[] {
  if (o.file) {
    if (o.prompt !== undefined || o.response !== undefined) throw new UsageError('rm score: give --file FILE.jsonl or --prompt TEXT --response TEXT, not both');
    return fileItems(o.file as string);
  }
  if (typeof o.prompt !== 'string' || typeof o.response !== 'string') throw new UsageError('rm score: give --prompt TEXT --response TEXT, or --file FILE.jsonl');
  if (!o.prompt.trim() || !o.response.trim()) throw new UsageError(`rm score: ${o.prompt.trim() ? '--response' : '--prompt'} is empty`);
  const src = { prompt: 'rm score: --prompt', response: 'rm score: --response', item: 'rm score: --prompt with --response' };
  return [{ prompt: [{ role: 'user', content: o.prompt }], response: o.response, label: '', src }];
}

/**
 * An item's token ids (chat-rendered prompt, response, end of turn) and its prompt length. Text the
 * tokenizer cannot encode, or an item longer than the context, is one line naming the flag or FILE:LINE: field.
 */
function encodeItem(it: ScoreItem, tok: Tokenizer, end: number, context: number): { ids: number[]; promptLength: number } {
  const encode = (src: string, f: () => number[]): number[] => {
    try {
      return f();
    } catch (e) {
      throw problem(`${src}: ${(e as Error).message}`);
    }
  };
  // a line of --file is data (exit 1); --prompt/--response text a flag's value (exit 2)
  const problem = (msg: string): Error => (it.src.item.startsWith('rm score: --') ? new UsageError(msg) : new Error(msg));
  const prompt = encode(it.src.prompt, () => encodePrompt(it.prompt, tok));
  // the prompt alone leaves no room for a response token and the end of turn: name the prompt, not the response
  if (prompt.length + 2 > context) throw problem(`${it.src.prompt}: ${prompt.length} tokens with the chat template, leaving no room for a response in the model's context (${context})`);
  const ids = [...prompt, ...encode(it.src.response, () => tok.encode(it.response)), end];
  if (ids.length > context) throw problem(`${it.src.item}: ${ids.length} tokens with the chat template, more than the model's context (${context})`);
  return { ids, promptLength: prompt.length };
}

async function scoreRm(argv: string[]): Promise<number> {
  const o = parseArgs(argv, SCORE_OPTS, 'rm score');
  if (maybeHelp(o, () => helpText('rm score', 'score responses with a reward model', SCORE_OPTS, 'gptlab rm score CKPT --prompt TEXT --response TEXT | --file FILE.jsonl'))) return 0;
  if (!o.ckpt) throw new UsageError('rm score: give a reward-model checkpoint or run folder');
  const items = scoreItems(o);
  await setupBackend(o);
  registerRewardModelType();
  const ck = loadAnyCheckpoint(o.ckpt as string);
  if (!(ck.model instanceof RewardModel)) throw new Error(`rm score: ${o.ckpt as string} is a ${ck.model.type} model, not a reward model (train one with gptlab rm train)`);
  const rm = ck.model, end = endOfTurnId(ck.tokenizer);
  // every item is encoded before the first score is printed: a bad line stops the command with no output
  const encoded = items.map((it) => encodeItem(it, ck.tokenizer, end, rm.contextLength));
  encoded.forEach(({ ids, promptLength }, i) => {
    const r = inEvalMode(rm, () => noGrad(() => rm.rewards(Int32Array.from(ids), 1, ids.length, [ids.length - 1], [promptLength]).data[0]));
    process.stdout.write(`${items[i].label ? items[i].label + '\t' : ''}${r.toFixed(4)}\n`);
  });
  return 0;
}

export async function rmCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'train') return trainRm(rest);
  if (sub === 'score') return scoreRm(rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    (sub === undefined ? process.stderr : process.stdout).write(`${sub === undefined ? 'gptlab rm: give a subcommand, train or score\n' : ''}gptlab rm — reward models\n\n  gptlab rm train --base CKPT [--data pairs.jsonl] --out DIR\n  gptlab rm score CKPT --prompt TEXT --response TEXT | --file FILE.jsonl\n`);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`rm: unknown subcommand "${sub}" (train or score)`);
}

// gptlab chat: a terminal chat with a checkpoint (the REPL itself is src/cli/chat.ts).
import { helpText, kebab, parseArgs, UsageError, type OptTable, SEED_RANGE } from './args.js';
import { BACKEND_OPTS, maybeHelp, refuseRewardModel, setupBackend } from './common.js';
import { loadModelFile } from '../train/model-file.node.js';
import { ChatEngine } from '../generate/chat-engine.js';
import { chatLoop } from './chat.js';
import { PARAM_RULES, ruleProblem } from '../serve/param-rules.js';

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint or run folder (e.g. runs/chat from gptlab sft)' },
  dequantize: { type: 'bool', help: 'GGUF files: dequantize the weights to float32 at load (faster decoding, more memory)' },
  system: { type: 'string', help: 'system prompt' },
  temperature: { type: 'number', default: 0.7, help: '0 = greedy' },
  topP: { type: 'number', default: 0.95, help: 'nucleus sampling threshold' },
  topK: { type: 'int', default: 0, help: 'top-k (0 = off)' },
  maxTokens: { type: 'int', help: 'longest reply in tokens (default: half the context, at most 128)' },
  repetitionPenalty: { type: 'number', default: 1, help: 'HF repetition penalty (1 = off)' },
  seed: { type: 'int', ...SEED_RANGE, help: 'random seed (default: a new one each reply)' },
  ...BACKEND_OPTS,
};

export async function chatCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'chat');
  if (maybeHelp(o, () => helpText('chat', 'chat with a checkpoint in the terminal (/help inside for commands)', OPTS, 'gptlab chat CHECKPOINT [options]'))) return 0;
  if (!o.checkpoint) throw new UsageError('chat: give a checkpoint folder (e.g. runs/chat)');
  checkSampling(o);
  await setupBackend(o);
  const ck = loadModelFile(o.checkpoint as string, { dequantize: !!o.dequantize });
  refuseRewardModel(ck.model.type, o.checkpoint as string, 'chat');
  for (const n of ck.notes) process.stderr.write(`note: ${n}\n`);
  const engine = new ChatEngine(ck.model, ck.tokenizer, String(o.checkpoint));
  const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
  if (tty) process.stdout.write(`gptlab chat — ${engine.modelId} (${ck.model.numParameters().toLocaleString('en')} parameters). /help for commands, /exit to quit.\n`);
  const result = await chatLoop(engine, { input: process.stdin, output: process.stdout, isTTY: tty, error: process.stderr }, {
    system: o.system as string | undefined,
    params: {
      temperature: o.temperature as number, topP: o.topP as number, topK: (o.topK as number) || undefined,
      maxTokens: (o.maxTokens as number | undefined) ?? Math.min(128, Math.floor(engine.contextLength / 2)), repetitionPenalty: o.repetitionPenalty as number, seed: o.seed as number | undefined,
    },
  });
  // piped input: a reply that failed makes the exit status say so
  return result.failed > 0 && !tty ? 1 : 0;
}

/** the sampling flags under the HTTP server's rules (src/serve/param-rules.ts); one line naming the flag */
function checkSampling(o: Record<string, unknown>): void {
  const flags = { temperature: PARAM_RULES.temperature, topP: PARAM_RULES.topP, topK: PARAM_RULES.topK, repetitionPenalty: PARAM_RULES.repetitionPenalty } as const; // --seed: its range in OPTS
  for (const [flag, rule] of Object.entries(flags)) {
    const v = o[flag];
    const problem = typeof v === 'number' ? ruleProblem(rule, v) : null;
    if (problem) throw new UsageError(`chat: --${kebab(flag)}: ${problem}`);
  }
  const mt = o.maxTokens;
  if (typeof mt === 'number' && mt < 1) throw new UsageError(`chat: --max-tokens must be at least 1, got ${mt}`);
}

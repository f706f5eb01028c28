#!/usr/bin/env node
// The `gptlab` command. Each subcommand lives in its own module; this file only dispatches and turns errors
// into one clear line and a non-zero exit code (a stack trace only with GPTLAB_DEBUG=1): 2 for a UsageError
// (src/usage-error.ts: a flag or --config setting out of range or at odds with another, wherever it is
// checked, the option table or the library, or at odds with the run it resumes or the folder it names: a
// changed model, optimizer or --base on --resume, another command's run, an --out inside a run), 1 for every
// other error (a file, run, checkpoint or data the settings cannot work with: missing, damaged, unreadable).
import { UsageError } from './args.js';
import { givenSizeFlags, isAllocationFailure } from './allocation-failure.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<(argv: string[]) => Promise<number>> }> = {
  train: { summary: 'train a language model (--arch gpt|llama|ngram|…) on a text file or the built-in demo corpus', load: async () => (await import('./train.js')).trainCommand },
  sample: { summary: 'generate text from a checkpoint', load: async () => (await import('./sample.js')).sampleCommand },
  eval: { summary: 'mean loss, perplexity and bits per byte of a checkpoint on a text file', load: async () => (await import('./eval.js')).evalCommand },
  info: { summary: 'summarise a checkpoint', load: async () => (await import('./info.js')).infoCommand },
  bench: { summary: 'measure kernels and training throughput (beside PyTorch when available)', load: async () => (await import('./bench.js')).benchCommand },
  tokenize: { summary: 'show how a tokenizer splits text (pieces, ids, statistics)', load: async () => (await import('./tokenize.js')).tokenizeCommand },
  tokenizer: { summary: 'train a tokenizer: gptlab tokenizer train …', load: async () => (await import('./tokenize.js')).tokenizerCommand },
  sft: { summary: 'supervised fine-tuning of a checkpoint on chat data', load: async () => (await import('./sft.js')).sftCommand },
  chat: { summary: 'chat with a checkpoint in the terminal', load: async () => (await import('./chat-cli.js')).chatCommand },
  serve: { summary: 'OpenAI-compatible HTTP API and web chat page', load: async () => (await import('./serve-cli.js')).serveCommand },
  rm: { summary: 'reward models: rm train (Bradley–Terry on preference pairs), rm score', load: async () => (await import('./rm.js')).rmCommand },
  dpo: { summary: 'direct preference optimization against a frozen reference', load: async () => (await import('./dpo.js')).dpoCommand },
  ppo: { summary: 'RLHF with PPO: a reward model, the rule-based reward or your reward function', load: async () => (await import('./ppo.js')).ppoCommand },
  grpo: { summary: 'RL with verifiable rewards (GRPO, or --algo reinforce)', load: async () => (await import('./grpo.js')).grpoCommand },
  distill: { summary: 'distill a teacher into a smaller student (KL × T² + cross-entropy)', load: async () => (await import('./distill.js')).distillCommand },
  lora: { summary: 'lora merge RUN --out DIR: fold a LoRA adapter into its base', load: async () => (await import('./lora.js')).loraCommand },
  export: { summary: 'write a model as GGUF (llama.cpp, f32 … q4_k_m) or a Hugging Face folder', load: async () => (await import('./export.js')).exportCommand },
  ladder: { summary: 'train bigram → n-gram → MLP → RNN → LSTM → GRU → GPT under one budget and compare dev losses', load: async () => (await import('./ladder.js')).ladderCommand },
  ngram: { summary: 'word n-gram models as KenLM: ngram train (ARPA files, Kneser–Ney), query (perplexity), sample', load: async () => (await import('./ngram.js')).ngramCommand },
  seq2seq: { summary: 'translation with an RNN encoder–decoder and attention (train|translate)', load: async () => (await import('./seq2seq.js')).seq2seqCommand },
  vision: { summary: 'image classification: MLP or LeNet-style CNN on built-in digit glyphs or a pixel CSV (train|predict)', load: async () => (await import('./vision.js')).visionCommand },
  boundary: { summary: 'decision regions of an MLP on 2-D toy sets (moons, circles, spirals, xor, blobs) as PNGs', load: async () => (await import('./boundary.js')).boundaryCommand },
  gan: { summary: 'GANs (MLP, DCGAN-style) on built-in glyphs or an 8-Gaussian ring (train|sample)', load: async () => (await import('./gan.js')).ganCommand },
  'fill-mask': { summary: "a BERT checkpoint's guesses for each [MASK]", load: async () => (await import('./fill-mask.js')).fillMaskCommand },
  classify: { summary: 'fine-tune BERT to classify sentences (train|predict)', load: async () => (await import('./classify.js')).classifyCommand },
  tag: { summary: 'fine-tune BERT to tag tokens (train|predict)', load: async () => (await import('./tag.js')).tagCommand },
  embed: { summary: 'word vectors: train (word2vec SGNS/CBOW, PPMI + SVD), nearest neighbours, analogies', load: async () => (await import('./embed.js')).embedCommand },
};

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return [
    'gptlab — build, train, inspect and ship small language models',
    '',
    'usage: gptlab <command> [options]     (gptlab <command> --help for its options)',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}${c.summary}`),
    '',
    'start here:  gptlab train --demo      (trains a small GPT on a built-in corpus in 30–80 s)',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage() + '\n');
    return cmd ? 0 : 1;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write('gptlab 0.1.0\n');
    return 0;
  }
  const c = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!c) {
    process.stderr.write(`gptlab: unknown command "${cmd}" (run gptlab --help)\n`);
    return 2;
  }
  (await import('../align/reward-type.js')).registerRewardModelType(); // reward models open like any checkpoint
  await loadPlugins(process.env.GPTLAB_PLUGINS);
  const run = await c.load();
  return run(rest);
}

/**
 * Imports the modules listed in GPTLAB_PLUGINS (paths separated by commas, relative to the current folder),
 * before any command runs: a model type of your own registers itself there (registerModelType) and every
 * command — train --arch, sample, eval, info, chat, serve — then knows it. Throws naming the module.
 */
export async function loadPlugins(list: string | undefined): Promise<void> {
  const { pathToFileURL } = await import('node:url');
  const path = await import('node:path');
  for (const item of (list ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      await import(pathToFileURL(path.resolve(item)).href);
    } catch (e) {
      throw new Error(`GPTLAB_PLUGINS: cannot load ${item}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

/** the size flags each command has, which an out-of-memory line names (a command not here gets no flag named) */
const OOM_FLAGS: Record<string, readonly string[]> = {
  train: ['--batch-size', '--block-size'], sft: ['--batch-size'], dpo: ['--batch-size'], rm: ['--batch-size'], ppo: ['--batch-size'],
  distill: ['--batch-size', '--student-block-size'], seq2seq: ['--batch-size', '--hidden'], classify: ['--batch-size'], tag: ['--batch-size'],
  vision: ['--batch-size'], gan: ['--batch-size', '--base', '--hidden'], embed: ['--dim'],
};

/**
 * The one line a failed command prints (`command`: the command typed, for the flags an out-of-memory line names): the error's message, except JavaScript's allocation failures
 * (isAllocationFailure), which become "out of memory: …".
 */
export function errorLine(e: unknown, command?: string, argv: readonly string[] = []): string {
  const err = e as Error;
  const msg = err?.message ?? String(e);
  if (isAllocationFailure(err)) {
    const given = givenSizeFlags(argv);
    const flags = command !== undefined && Object.hasOwn(OOM_FLAGS, command) ? OOM_FLAGS[command] : undefined;
    const others = flags?.filter((f) => !given.some(([g]) => g === f)).join('/');
    const hint = given.length ? `the sizes given: ${given.map((g) => g.join(' ').trim()).join(', ')}; lower ${given.length > 1 ? 'them' : 'it'}${others ? ` or ${others}` : ''}` : flags ? `lower ${flags.join('/')}` : 'the sizes asked for do not fit in memory';
    return `gptlab: error: out of memory: ${msg} (${hint})`;
  }
  return `gptlab: ${err instanceof UsageError ? '' : 'error: '}${msg}`;
}

/** the exit status of a command whose reader closed its output (128 + SIGPIPE), as shells report `yes | head` */
export const CLOSED_PIPE_EXIT = 141;

/**
 * Makes a closed stdout or stderr (`gptlab sample RUN | head -c 10`, whose reader has gone) end the command
 * quietly instead of failing with JavaScript's "write EPIPE": the closed stream drops what is written after,
 * and the command stops as on Ctrl-C — a training run finishes its step and saves its checkpoint, output in
 * the making is removed — through its SIGINT handler, told 'SIGPIPE'; a command with none stops at once. Once
 * per process; `onClosed` is told the stream's name. The exit status is then CLOSED_PIPE_EXIT.
 */
export function endQuietlyOnClosedPipe(onClosed: (stream: 'stdout' | 'stderr') => void = () => {}): void {
  let closed = false;
  for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') {
        if (name === 'stdout') process.stderr.write(`gptlab: error: cannot write the output: ${e.message}\n`);
        process.exit(1);
      }
      stream.write = (() => true) as typeof stream.write; // nothing more reaches a closed pipe
      if (closed) return;
      closed = true;
      onClosed(name);
      process.exitCode = CLOSED_PIPE_EXIT;
      if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGPIPE');
      else process.exit(CLOSED_PIPE_EXIT);
    });
  }
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${(await import('node:fs')).realpathSync(process.argv[1])}`).href;
if (isMain) {
  let pipeClosed = false;
  endQuietlyOnClosedPipe(() => (pipeClosed = true));
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = pipeClosed ? CLOSED_PIPE_EXIT : code;
    },
    (e: unknown) => {
      const err = e as Error;
      if (process.env.GPTLAB_DEBUG) process.stderr.write(`${err.stack}\n`);
      process.stderr.write(errorLine(e, process.argv[2], process.argv.slice(3)) + '\n');
      // sizes too large for memory are a flag problem, as the estimates before allocating report them
      process.exitCode = err instanceof UsageError || isAllocationFailure(err) ? 2 : 1;
    },
  );
}

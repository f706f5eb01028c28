// gptlab dpo: Direct Preference Optimization of a chat model on preference pairs against a frozen copy of
// itself (sigmoid loss, β); reports the implicit reward accuracy and margin on held-out pairs.
import { givenOrOwn, helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { ADAPT_OPTS, adaptOptions, LORAPLUS_OPTS, trainOpts, trainOptions } from './lora.js';
import { PREFERENCE_DEFAULTS, PREFERENCE_DEV_FRACTION, runPreferenceJob } from '../align/preference-job.node.js';

const OPTS: OptTable = {
  base: { type: 'string', help: 'the chat (SFT) checkpoint or run folder: the starting policy and the frozen reference' },
  data: { type: 'string', help: 'preference JSONL: {prompt|messages, chosen, rejected} or ranked {…, responses} (default: built-in)' },
  out: { type: 'string', default: 'runs/dpo', help: 'run folder' },
  beta: { type: 'number', default: 0.1, above: 0, help: 'β: how strongly the policy is held to the reference' },
  resume: { type: 'bool', help: 'continue the run in --out from its last checkpoint' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  devFraction: { type: 'number', default: PREFERENCE_DEV_FRACTION, min: 0, below: 1, help: 'share of --data pairs held out' },
  ...trainOpts(PREFERENCE_DEFAULTS),
  ...ADAPT_OPTS,
  ...LORAPLUS_OPTS,
  ...BACKEND_OPTS,
};

export async function dpoCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'dpo');
  if (maybeHelp(o, () => helpText('dpo', 'Direct Preference Optimization on preference pairs', OPTS, 'gptlab dpo --base CKPT [--data pairs.jsonl] --beta 0.1 --out DIR'))) return 0;
  if (!o.base && !o.resume) throw new UsageError('dpo: give --base CHECKPOINT (a chat model, e.g. runs/chat from gptlab sft)');
  const train = trainOptions(o, 'dpo');
  const adapt = adaptOptions(o, 'dpo');
  process.stdout.write(`backend: ${await setupBackend(o)}\n`);
  const res = await runPreferenceJob({
    kind: 'dpo', base: o.base as string | undefined, data: o.data as string | undefined, out: o.out as string, resume: !!o.resume,
    force: !!o.force, devFraction: givenOrOwn(o, 'devFraction') as number | undefined, beta: givenOrOwn(o, 'beta') as number | undefined, train, adapt,
  });
  if (res.metrics) process.stdout.write(`${res.heldOut ? 'held-out' : 'training-set (no held-out pairs)'} implicit reward accuracy ${(100 * res.metrics['reward accuracy']).toFixed(1)}%, margin ${res.metrics['reward margin'].toFixed(3)}\n`);
  return res.outcome === 'interrupted' ? 130 : 0;
}

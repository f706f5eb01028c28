// gptlab tag train|predict: fine-tune BERT for token classification (JSONL of {"tokens", "tags"}; the
// built-in character tagging of place names, 中国的首都是北京 → B E O O O O B E, without --data) and tag
// sentences with the result.
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { checkModelFlags, FINETUNE_OPTS, finetuneFields } from './classify.js';
import { runTagPredict, runTagTrain } from '../train/tag-job.node.js';

const PREDICT_OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'fine-tuned checkpoint or run folder (uses best/)' },
  data: { type: 'string', help: 'JSONL of {"tokens": [...]} (with "tags": also scored)' },
  chars: { type: 'bool', help: 'split sentences given as text into characters (default: on whitespace)' },
  ...BACKEND_OPTS,
};

const USAGE = 'gptlab tag train [--data FILE.jsonl] [--out DIR] [options]\n       gptlab tag predict CHECKPOINT ("sentence" … [--chars] | --data FILE.jsonl)';

export async function tagCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'train') {
    const o = parseArgs(rest, FINETUNE_OPTS, 'tag train');
    if (maybeHelp(o, () => helpText('tag train', 'fine-tune BERT to tag tokens (built-in character tagging without --data)', FINETUNE_OPTS, USAGE))) return 0;
    const notes = checkModelFlags(o, 'tag train');
    process.stdout.write(`backend: ${await setupBackend(o)}\n`);
    for (const n of notes) process.stdout.write(n + '\n');
    const res = await runTagTrain(finetuneFields(o, 'tag train', 'runs/tag'));
    return res.outcome === 'interrupted' ? 130 : 0;
  }
  if (sub === 'predict') {
    const o = parseArgs(rest, PREDICT_OPTS, 'tag predict', { rest: true });
    if (maybeHelp(o, () => helpText('tag predict', 'tag sentences with a fine-tuned BERT', PREDICT_OPTS, USAGE))) return 0;
    if (!o.checkpoint) throw new UsageError('tag predict: give a checkpoint (e.g. runs/tag from gptlab tag train)');
    if (!o.data && !o._.length) throw new UsageError('tag predict: give sentences to tag, or --data FILE.jsonl');
    await setupBackend(o);
    runTagPredict(o.checkpoint as string, { texts: o._, file: o.data as string | undefined, chars: !!o.chars });
    return 0;
  }
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(`gptlab tag — fine-tune BERT for token classification (tagging)\n\nusage: ${USAGE}\n`);
    return 0;
  }
  throw new UsageError(`tag: give a subcommand, train or predict (got ${sub === undefined ? 'none' : JSON.stringify(sub)})`);
}

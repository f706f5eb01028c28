// gptlab distill: train a small student from a teacher checkpoint (Hinton et al. 2015: KL to the teacher's
// softened distribution × τ², mixed with cross-entropy on the text); --alpha 0 trains without the teacher.
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { trainOpts, trainOptions } from './lora.js';
import { DISTILL_DEFAULTS, runDistillJob } from '../align/distill-job.node.js';
import { registerRewardModelType } from '../align/reward-type.js';

const OPTS: OptTable = {
  teacher: { type: 'string', help: 'the teacher checkpoint or run folder' },
  studentArch: { type: 'string', default: 'gpt', help: 'the student\'s model type' },
  studentPreset: { type: 'string', default: 'tiny', help: 'the student\'s preset shape' },
  studentBlockSize: { type: 'int', help: 'the student\'s context (default: the teacher\'s, at most 64)' },
  data: { type: 'string', help: 'text file to distill on (default: the built-in demo corpus)' },
  split: { type: 'string', default: '90/10', help: 'train/dev split of the text' },
  temperature: { type: 'number', default: 2, help: 'τ: softening of both distributions' },
  alpha: { type: 'number', default: 0.5, help: 'weight of the KD term (0 = no teacher, 1 = KD only)' },
  out: { type: 'string', default: 'runs/distill', help: 'run folder' },
  resume: { type: 'bool', help: 'continue the run in --out' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  ...trainOpts(DISTILL_DEFAULTS),
  ...BACKEND_OPTS,
};

export async function distillCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'distill');
  if (maybeHelp(o, () => helpText('distill', 'knowledge distillation into a smaller student', OPTS, 'gptlab distill --teacher CKPT --student-preset tiny [--data FILE] --out DIR'))) return 0;
  if (!o.teacher && !o.resume) throw new UsageError('distill: give --teacher CHECKPOINT');
  if (!((o.temperature as number) > 0)) throw new UsageError('distill: --temperature must be > 0');
  if (!((o.alpha as number) >= 0 && (o.alpha as number) <= 1)) throw new UsageError('distill: --alpha must be in [0, 1]');
  const train = trainOptions(o);
  process.stdout.write(`backend: ${await setupBackend(o)}\n`);
  registerRewardModelType();
  const res = await runDistillJob({
    teacher: o.teacher as string | undefined, studentArch: o.studentArch as string, studentPreset: o.studentPreset as string,
    studentOverrides: o.studentBlockSize !== undefined ? { blockSize: o.studentBlockSize } : undefined,
    data: o.data as string | undefined, split: o.split as string, out: o.out as string, resume: !!o.resume, force: !!o.force,
    distill: { temperature: o.temperature as number, alpha: o.alpha as number }, train,
  });
  return res.outcome === 'interrupted' ? 130 : 0;
}

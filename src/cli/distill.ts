// gptlab distill: train a small student from a teacher checkpoint (Hinton et al. 2015: KL to the teacher's
// softened distribution × τ², mixed with cross-entropy on the text); --alpha 0 trains without the teacher.
import { givenOrOwn, helpText, parseArgs, UsageError, type OptTable, type ParsedArgs } from './args.js';
import { modelType, modelTypes } from '../models/registry.js';
import { BACKEND_OPTS, checkSplitFlag, maybeHelp, setupBackend } from './common.js';
import { trainOpts, trainOptions } from './lora.js';
import { DISTILL_DEFAULTS, runDistillJob } from '../align/distill-job.node.js';
import type { DistillOptions } from '../align/distill.js';
import { registerRewardModelType } from '../align/reward-type.js';

const OPTS: OptTable = {
  teacher: { type: 'string', help: 'the teacher checkpoint or run folder' },
  studentArch: { type: 'string', default: 'gpt', help: 'the student\'s model type (a resumed run keeps its own)' },
  studentPreset: { type: 'string', default: 'tiny', help: 'the student\'s preset shape (a resumed run keeps its own)' },
  studentBlockSize: { type: 'int', min: 1, help: 'the student\'s context (default: the teacher\'s, at most 64)' },
  data: { type: 'string', help: 'text file to distill on (default: the built-in demo corpus)' },
  split: { type: 'string', default: '90/10', help: 'train/dev split of the text' },
  temperature: { type: 'number', default: 2, above: 0, help: 'τ: softening of both distributions (a resumed run keeps its own unless given)' },
  out: { type: 'string', default: 'runs/distill', help: 'run folder' },
  resume: { type: 'bool', help: 'continue the run in --out' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  ...trainOpts(DISTILL_DEFAULTS),
  // distillation's α (after trainOpts: RMSProp's --alpha, its smoothing constant, is not offered here)
  alpha: { type: 'number', default: 0.5, min: 0, max: 1, help: 'weight of the KD term (0 = no teacher, 1 = KD only; a resumed run keeps its own unless given)' },
  ...BACKEND_OPTS,
};

/** --student-arch and --student-preset of a new run name a model type and one of its presets; throws one line otherwise */
function checkStudentFlags(o: ParsedArgs): void {
  const arch = o.studentArch as string, types = modelTypes().filter((t) => !t.startsWith('bert') && Object.keys(modelType(t).presets).length > 0);
  if (!types.includes(arch)) throw new UsageError(`distill: --student-arch must be one of ${types.join(', ')}, got "${arch}"`);
  const presets = Object.keys(modelType(arch).presets);
  if (!presets.includes(o.studentPreset as string)) throw new UsageError(`distill: --student-preset must be one of ${presets.join(', ')} for --student-arch ${arch}, got "${o.studentPreset as string}"`);
}

export async function distillCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'distill');
  if (maybeHelp(o, () => helpText('distill', 'knowledge distillation into a smaller student', OPTS, 'gptlab distill --teacher CKPT --student-preset tiny [--data FILE] --out DIR'))) return 0;
  if (!o.teacher && !o.resume) throw new UsageError('distill: give --teacher CHECKPOINT');
  if (!o.resume) checkStudentFlags(o);
  checkSplitFlag(o.split as string, 'distill');
  const train = trainOptions(o, 'distill', ['alpha']);
  process.stdout.write(`backend: ${await setupBackend(o)}\n`);
  registerRewardModelType();
  // a resumed run keeps its student, τ and α: only the flags given now are passed on (and checked or noted there)
  const given = (k: string): unknown => givenOrOwn(o, k);
  const distill: DistillOptions = {};
  for (const k of ['temperature', 'alpha'] as const) if (given(k) !== undefined) distill[k] = o[k] as number;
  const res = await runDistillJob({
    teacher: o.teacher as string | undefined, studentArch: given('studentArch') as string | undefined, studentPreset: given('studentPreset') as string | undefined,
    studentOverrides: o.studentBlockSize !== undefined ? { blockSize: o.studentBlockSize } : undefined,
    data: o.data as string | undefined, split: givenOrOwn(o, 'split') as string | undefined, out: o.out as string, resume: !!o.resume, force: !!o.force,
    distill, train,
  });
  return res.outcome === 'interrupted' ? 130 : 0;
}

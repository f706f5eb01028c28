// gptlab gan train|sample: a GAN (MLP or DCGAN-style) on the built-in digit glyphs or an 8-Gaussian ring,
// with samples written at chosen epochs (and the ring's mode coverage), and sampling from a checkpoint.
import fs from 'node:fs';
import { helpText, kebab, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { nonMuonOptimizerOpts, nonMuonOptimizerOptions } from './optimizer-flags.js';
import { BACKEND_OPTS, checkOutputFile, maybeHelp, runSubcommand, setupBackend } from './common.js';
import { ganSampleFile, runGanTrain } from '../train/gan-job.node.js';

const TRAIN_OPTS: OptTable = {
  data: { type: 'string', default: 'glyphs', choices: ['glyphs', 'ring8'], help: 'built-in digit glyphs or a ring of 8 Gaussians' },
  model: { type: 'string', choices: ['mlp', 'dcgan'], help: 'GAN family (default dcgan for glyphs, mlp for ring8)' },
  epochs: { type: 'int', default: 25, min: 1, help: 'passes over the data' },
  sampleAt: { type: 'ints', min: 0, help: 'epochs at which to write samples (default 0, a quarter, half, the end)' },
  out: { type: 'string', default: 'runs/gan', help: 'run folder' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  perClass: { type: 'int', default: 300, min: 1, help: 'glyphs: images per digit' },
  glyphSize: { type: 'int', default: 16, min: 8, max: 64, help: 'glyphs: image side (dcgan: a multiple of 4)' },
  glyphNoise: { type: 'number', default: 0.08, min: 0, help: 'glyphs: standard deviation of the pixel noise on the training images' },
  points: { type: 'int', default: 4096, min: 8, help: 'ring8: training points' },
  latent: { type: 'int', min: 1, help: 'noise dimensions (default 2 for points, 32 for images)' },
  hidden: { type: 'ints', min: 1, help: 'mlp: hidden widths of G and D (default 128,128)' },
  base: { type: 'int', min: 1, help: 'dcgan: base channel count (default 32)' },
  batchSize: { type: 'int', default: 64, min: 1, help: 'samples per step' },
  judgeSteps: { type: 'int', default: 600, min: 0, help: 'glyphs: training steps of the CNN that scores samples (0 = no scores)' },
  lr: { type: 'number', default: 2e-4, above: 0, help: 'learning rate of G and D' },
  beta1: { type: 'number', default: 0.5, min: 0, below: 1, help: 'adam, adamw: β1' },
  seed: { type: 'int', ...SEED_RANGE, default: 1, help: 'random seed' },
  ...nonMuonOptimizerOpts('adam', 'G and D (Adam as DCGAN)'),
  ...BACKEND_OPTS,
};

const SAMPLE_OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'GAN run folder or checkpoint' },
  n: { type: 'int', alias: 'n', default: 64, min: 1, max: 4096, help: 'samples' },
  out: { type: 'string', help: 'output file: .png (images) or .svg (points)' },
  force: { type: 'bool', help: 'overwrite an existing --out file' },
  seed: { type: 'int', ...SEED_RANGE, default: 1, help: 'noise seed' },
  ...BACKEND_OPTS,
};

const USAGE = 'gptlab gan train [--data glyphs|ring8] [--model mlp|dcgan] [--epochs N] [--sample-at 1,5,20] [--out DIR]\n       gptlab gan sample CKPT [-n 64] --out grid.png [--force]';

/** flags of gan train that only some data sets or GAN families read */
const GAN_FLAG_SCOPE: Record<string, { data?: string; arch?: string }> = {
  perClass: { data: 'glyphs' }, glyphSize: { data: 'glyphs' }, glyphNoise: { data: 'glyphs' }, judgeSteps: { data: 'glyphs' },
  points: { data: 'ring8' }, hidden: { arch: 'mlp' }, base: { arch: 'dcgan' },
};

/** one `note:` line naming the flags given that --data and --model ignore; '' when none */
function ignoredGanFlags(o: ParsedArgs, data: string, arch: string): string {
  const ignored = Object.entries(GAN_FLAG_SCOPE).filter(([k, s]) => o._given.has(k) && ((s.data && s.data !== data) || (s.arch && s.arch !== arch)));
  if (!ignored.length) return '';
  return `note: ${ignored.map(([k, s]) => `--${kebab(k)} (${s.data ? `--data ${s.data}` : `--model ${s.arch}`} only)`).join(', ')} ignored with --data ${data} --model ${arch}`;
}

/** `gptlab gan …`; returns the exit code */
export async function ganCommand(argv: string[]): Promise<number> {
  return runSubcommand('gan', argv, `gptlab gan — generative adversarial networks\n\nusage: ${USAGE}`, { train: trainSub, sample: sampleSub }, 'train or sample');
}

/** `gptlab gan train …` */
async function trainSub(rest: string[]): Promise<number> {
  const o = parseArgs(rest, TRAIN_OPTS, 'gan train');
  if (maybeHelp(o, () => helpText('gan train', 'train a GAN on built-in glyphs or an 8-Gaussian ring', TRAIN_OPTS, USAGE))) return 0;
  const epochs = o.epochs as number, data = o.data as 'glyphs' | 'ring8';
  const sampleAt = (o.sampleAt as number[] | undefined) ?? [...new Set([0, Math.round(epochs / 4), Math.round(epochs / 2), epochs])];
  const late = sampleAt.find((e) => e > epochs);
  if (late !== undefined) throw new UsageError(`gan train: --sample-at ${late} is after the last epoch (--epochs ${epochs})`);
  const arch = (o.model as 'mlp' | 'dcgan' | undefined) ?? (data === 'ring8' ? 'mlp' : 'dcgan');
  const notes = ignoredGanFlags(o, data, arch);
  await setupBackend(o);
  if (notes) process.stdout.write(notes + '\n');
  runGanTrain({
    data, arch, epochs, sampleAt,
    glyphPerClass: o.perClass as number, glyphSize: o.glyphSize as number, glyphNoise: o.glyphNoise as number, ringPoints: o.points as number,
    latent: o.latent as number | undefined, hidden: o.hidden as number[] | undefined, base: o.base as number | undefined, judgeSteps: o.judgeSteps as number,
    train: { batchSize: o.batchSize as number, lr: o.lr as number, beta1: o.beta1 as number, seed: o.seed as number, ...ganOptimizer(o) },
    out: o.out as string, force: !!o.force,
  });
  return 0;
}

/** --optimizer and its options for G and D (Muon, whose groups follow a language model's hidden matrices, is not offered) */
function ganOptimizer(o: ParsedArgs): { optimizer?: string; optimizerOptions?: Record<string, number | boolean | string> } {
  const { optimizer, optimizerOptions } = nonMuonOptimizerOptions(o, 'gan train');
  return { optimizer, ...(optimizerOptions ? { optimizerOptions } : {}) };
}

/** `gptlab gan sample …` */
async function sampleSub(rest: string[]): Promise<number> {
  const o = parseArgs(rest, SAMPLE_OPTS, 'gan sample');
  if (maybeHelp(o, () => helpText('gan sample', 'draw samples from a trained GAN', SAMPLE_OPTS, USAGE))) return 0;
  if (!o.checkpoint) throw new UsageError('gan sample: give a checkpoint (e.g. runs/gan from gptlab gan train)');
  if (!o.out) throw new UsageError('gan sample: give --out FILE.png (images) or FILE.svg (points)');
  const out = o.out as string;
  checkOutputFile(out, '--out', 'gan sample', { refuseExisting: !o.force });
  await setupBackend(o);
  const r = ganSampleFile(o.checkpoint as string, o.n as number, o.seed as number);
  if (!out.toLowerCase().endsWith('.' + r.kind)) throw new UsageError(`gan sample: this GAN makes ${r.kind === 'png' ? 'images' : 'points'}; --out must end in .${r.kind}`);
  fs.writeFileSync(out, r.bytes);
  process.stdout.write(`wrote ${o.n} samples to ${out}\n`);
  return 0;
}

// `gptlab gan` on disk: train a GAN on the built-in digit glyphs or an 8-Gaussian ring into a folder, and
// sample from it. The folder holds
//   checkpoint/   config.json (GAN config, train config, data, epoch) and model.safetensors
//                 (`generator.*`, `discriminator.*`), written at every sample epoch and at the end, after the
//                 generator's BatchNorm statistics are re-estimated for its current weights (update-bn.ts)
//   samples-epoch-N.png   (glyphs) a grid of 64 samples from fixed noise
//   scatter-epoch-N.svg   (ring8) 1,000 samples over the real data, modes ringed
//   log.jsonl             one line per epoch: losses, and for ring8 the mode coverage
//   report.json           the measures at every sample epoch: for glyphs the judge's verdict on 1,000 samples
//                         (glyph-judge.ts: share classified with confidence > 0.9, digits covered, Fréchet
//                         distance to real glyphs, with the real training glyphs' own numbers beside them),
//                         for ring8 the modes covered; and the time taken
import fs from 'node:fs';
import path from 'node:path';
import { ganConfig, ganSizes, Generator, type GanConfig } from '../models/gan.js';
import { optimizerStateCount } from '../optim/registry.js';
import { checkBytes } from './memory-bounds.js';
import { Rng } from '../tensor/rng.js';
import { glyphImages } from '../data/glyphs.js';
import { gaussianRing, ringCentres } from '../data/toy2d.js';
import { modeCoverage, type ModeCoverage } from '../eval/mode-coverage.js';
import { scatterSVG } from '../eval/scatter.js';
import { gridPNG } from '../eval/png.js';
import { writeDirAtomicSync } from '../formats/atomic.node.js';
import { GanTrainer, sampleGenerator, type GanData, type GanTrainConfig } from './gan-trainer.js';
import { scoreGlyphs, trainGlyphJudge, type GlyphJudge, type GlyphScore } from './glyph-judge.js';
import { loadModuleSafetensors, moduleToSafetensors } from './module-files.js';
import { VISION_FORMAT } from './vision-job.node.js';
import { readJSONFile } from './checkpoint.node.js';
import { refuseModelFolder } from './run-folder.node.js';
import { clearRunContents } from './model-folder.node.js';
import { UsageError } from '../usage-error.js';
import { folderCreationProblem } from '../formats/atomic.node.js';

export const GAN_FORMAT = 'gptlab-gan';
/** 2: image generators end in tanh (images in [−1, 1]); DCGAN layers before BatchNorm have no bias and the
 *  generator has a third convolution (conv3) */
export const GAN_VERSION = 2;
/** the ring's geometry: 8 modes, radius 2, σ 0.05 */
export const RING = { modes: 8, radius: 2, sigma: 0.05 };

export interface GanJob {
  data: 'glyphs' | 'ring8';
  arch: 'mlp' | 'dcgan';
  epochs: number;
  /** epochs after which to write samples (0 = before training) */
  sampleAt: number[];
  /** glyphs: images per digit and side; ring8: points */
  glyphPerClass: number;
  glyphSize: number;
  /** glyphs: standard deviation of the pixel noise on the training images (default glyphs.ts's 0.08) */
  glyphNoise?: number;
  ringPoints: number;
  latent?: number;
  hidden?: number[];
  base?: number;
  /** glyphs: Adam steps of the judge CNN that scores the samples (0 = no scores) */
  judgeSteps?: number;
  train: Partial<GanTrainConfig>;
  out: string;
  force?: boolean;
}

/** the training data of a job */
export function ganData(job: Pick<GanJob, 'data' | 'glyphPerClass' | 'glyphSize' | 'glyphNoise' | 'ringPoints'>, seed: number): GanData {
  if (job.data === 'ring8') return { values: gaussianRing(job.ringPoints, { ...RING, seed }).points, n: job.ringPoints, sampleShape: [2] };
  const s = glyphImages(job.glyphPerClass, seed, { size: job.glyphSize, ...(job.glyphNoise === undefined ? {} : { noise: job.glyphNoise }) });
  return { values: s.images.map((v) => 2 * v - 1), n: s.labels.length, sampleShape: [1, s.height, s.width] }; // [0, 1] → [−1, 1], as the tanh
}

/** what report.json says about one sample epoch */
export interface GanEpochScore {
  epoch: number;
  /** glyphs, with a judge */
  glyphs?: GlyphScore;
  /** ring8 */
  ring?: ModeCoverage;
}

/** [−1, 1] images (the tanh's range) → [0, 1], as the judge reads them */
const toUnit = (x: Float32Array): Float32Array => x.map((v) => Math.min(1, Math.max(0, (v + 1) / 2)));

/** a judge's verdict in one line */
export const glyphScoreLine = (s: GlyphScore): string =>
  `${(100 * s.confident).toFixed(1)}% classified with confidence > 0.9, ${s.covered}/${s.classes} digits covered (${s.counts.join(' ')}), Fréchet distance ${s.frechet.toFixed(1)}`;

/** the file of an epoch's samples: the epoch zero-padded to the width of the last epoch */
export const sampleFileName = (epoch: number, job: Pick<GanJob, 'data' | 'epochs'>): string =>
  `${job.data === 'ring8' ? 'scatter' : 'samples'}-epoch-${String(epoch).padStart(String(job.epochs).length, '0')}.${job.data === 'ring8' ? 'svg' : 'png'}`;

/** writes the epoch's samples (an image grid, or a scatter plot) and scores 1,000 of them */
function writeSamples(t: GanTrainer, job: GanJob, real: GanData, judge: GlyphJudge | null): GanEpochScore {
  if (job.data === 'ring8') {
    const pts = t.sample(1000, 7), cov = modeCoverage(pts, ringCentres(RING.modes, RING.radius), RING.sigma);
    const title = `epoch ${t.epoch}: ${cov.covered}/8 modes covered, ${(100 * cov.highQuality).toFixed(0)}% within 3σ`;
    fs.writeFileSync(path.join(job.out, sampleFileName(t.epoch, job)), scatterSVG(pts, { title, centres: ringCentres(), reference: real.values.subarray(0, 2000), extent: [-3, 3, -3, 3] }));
    return { epoch: t.epoch, ring: cov };
  }
  const [, H, W] = real.sampleShape, x = t.sample(judge ? 1000 : 64, 7);
  fs.writeFileSync(path.join(job.out, sampleFileName(t.epoch, job)), gridPNG({ data: x.subarray(0, 64 * H * W), shape: [64, H, W] }, { perRow: 8, range: [-1, 1] }));
  return judge ? { epoch: t.epoch, glyphs: scoreGlyphs(judge, toUnit(x)) } : { epoch: t.epoch };
}

/** glyphs: trains the judge and scores (up to 1,000 of) the real training glyphs with it */
function makeJudge(job: GanJob, real: GanData, log: (l: string) => void): { judge: GlyphJudge; seconds: number; real: GlyphScore } | null {
  if (job.data !== 'glyphs' || job.judgeSteps === 0) return null;
  const t0 = performance.now(), judge = trainGlyphJudge({ size: real.sampleShape[1], steps: job.judgeSteps, referenceNoise: job.glyphNoise });
  const n = Math.min(real.n, 1000), score = scoreGlyphs(judge, toUnit(real.values.subarray(0, n * real.sampleShape[1] * real.sampleShape[2])));
  const seconds = (performance.now() - t0) / 1000;
  log(`judge: LeNet-style CNN, ${(100 * judge.accuracy).toFixed(1)}% on held-out glyphs (${seconds.toFixed(1)} s); on ${n} real training glyphs: ${glyphScoreLine(score)}`);
  return { judge, seconds, real: score };
}

function saveGan(t: GanTrainer, job: GanJob): void {
  const config = { format: GAN_FORMAT, version: GAN_VERSION, gan: t.gan, train: t.config, data: job.data, epoch: t.epoch, step: t.step };
  writeDirAtomicSync(path.join(job.out, 'checkpoint'), {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'model.safetensors': moduleToSafetensors({ generator: t.G, discriminator: t.D }),
  });
}

export interface GanReport {
  data: 'glyphs' | 'ring8';
  gan: GanConfig;
  train: GanTrainConfig;
  epochs: number;
  steps: number;
  seconds: number;
  /** glyphs: the judge's accuracy and its verdict on real training glyphs (the best a generator can hope for) */
  judge?: { accuracy: number; seconds: number; real: GlyphScore };
  samples: GanEpochScore[];
}

/** the epoch's log line: what was written and the measures */
function sampleLine(s: GanEpochScore, job: GanJob): string {
  const what = `epoch ${s.epoch}: wrote ${sampleFileName(s.epoch, job)}`;
  if (s.ring) return `${what}; modes covered ${s.ring.covered}/8 (${s.ring.counts.join(' ')}), ${(100 * s.ring.highQuality).toFixed(0)}% within 3σ`;
  return s.glyphs ? `${what}; ${glyphScoreLine(s.glyphs)}` : what;
}

/** what kind of run `dir` holds, from its checkpoint's config.json ("a GAN run", "a vision run", "a bert run"), or null for none */
export function heldRun(dir: string): string | null {
  const found = ['checkpoint', 'best'].map((d) => path.join(dir, d)).filter((d) => fs.existsSync(d));
  if (!found.length) return null;
  for (const d of found) {
    try {
      const c = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8')) as { format?: unknown; model_type?: unknown };
      if (c.format === GAN_FORMAT) return 'a GAN run';
      if (c.format === VISION_FORMAT) return 'a vision run (image classifier)';
      if (typeof c.model_type === 'string') return `a ${c.model_type} run`;
    } catch {
      // unreadable config: fall through to the generic answer
    }
  }
  return 'a run';
}


/** the checks of a job that need no data: --model dcgan needs images whose side is a multiple of 4 (flags at odds: exit 2) */
function checkGanJob(job: GanJob): void {
  if (job.arch === 'dcgan' && job.data === 'ring8') throw new UsageError('--model dcgan needs image data (--data glyphs); ring8 is 2-D points (use --model mlp)');
  if (job.arch === 'dcgan' && job.glyphSize % 4) throw new UsageError(`--model dcgan needs --glyph-size a multiple of 4, got ${job.glyphSize}`);
}

/**
 * Refuses, before anything is allocated, a GAN whose parameters (with their gradients and the optimizer's
 * buffers) or whose batch of layer outputs (forward and backward, ~4 copies) would pass the run's memory bound:
 * one out-of-memory line naming the flags that set the size (a UsageError, exit 2).
 */
function checkGanSize(cfg: GanConfig, train: Partial<GanTrainConfig>): void {
  const { parameters, activations } = ganSizes(cfg);
  const size = cfg.arch === 'mlp' ? '--hidden' : '--base';
  const states = optimizerStateCount(train.optimizer ?? 'adam', train.optimizerOptions);
  checkBytes(`the parameters of G and D (${parameters.toLocaleString('en')}) with their gradients and ${states} optimizer buffers`, (2 + states) * parameters * 4, `${size} or --latent`);
  const N = train.batchSize ?? 64;
  checkBytes(`the layer outputs of a batch (${N} × ${activations.toLocaleString('en')} float32, forward and backward)`, 4 * N * activations * 4, `--batch-size or ${size}`);
}

/** Trains per `job`; writes and returns the report (the measures at each sample epoch). */
export function runGanTrain(job: GanJob, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): GanReport {
  checkGanJob(job);
  // --out at odds with the folder it names: exit 2, as RunFolder's refusals
  if (path.resolve(job.out) === process.cwd()) throw new UsageError(`--out ${job.out}: is the current folder; give a new folder for the run`);
  if (fs.existsSync(job.out) && !fs.statSync(job.out).isDirectory()) throw new UsageError(`${job.out}: exists and is not a folder (--out names the run folder)`);
  refuseModelFolder(job.out); // a checkpoint (RUN/best), or a folder inside a run or checkpoint (RUN/gan), as every training command refuses
  const why = fs.existsSync(job.out) ? null : folderCreationProblem(job.out);
  if (why) throw new UsageError(`--out ${job.out}: cannot make this folder (${why})`);
  const held = heldRun(job.out);
  if (held && !job.force) throw new UsageError(`${job.out} already holds ${held}: choose another --out, or overwrite it with --force`);
  const seed = job.train.seed ?? 1, real = ganData(job, seed);
  const shape = real.sampleShape;
  const cfg = ganConfig({ arch: job.arch, sampleShape: shape, ...(job.latent ? { latent: job.latent } : {}), ...(job.hidden ? { hidden: job.hidden } : {}), ...(job.base ? { base: job.base } : {}) });
  checkGanSize(cfg, job.train);
  const t = new GanTrainer(cfg, real, job.train);
  if (held) clearRunContents(job.out); // --force: the old run goes whole (as with train --force), never leaving a mixed folder
  fs.mkdirSync(job.out, { recursive: true });
  fs.rmSync(path.join(job.out, 'log.jsonl'), { force: true });
  log(`data: ${job.data === 'ring8' ? `ring of 8 Gaussians (radius 2, σ 0.05), ${real.n} points` : `built-in glyphs ${shape[1]}×${shape[2]}, ${real.n} images`}; ${cfg.arch} GAN, G ${t.G.numParameters().toLocaleString('en')} / D ${t.D.numParameters().toLocaleString('en')} parameters`);
  const judged = makeJudge(job, real, log);
  const report: GanReport = { data: job.data, gan: cfg, train: t.config, epochs: job.epochs, steps: 0, seconds: 0, ...(judged ? { judge: { accuracy: judged.judge.accuracy, seconds: judged.seconds, real: judged.real } } : {}), samples: [] };
  const t0 = performance.now();
  const writeReport = (): void => {
    Object.assign(report, { steps: t.step, seconds: (performance.now() - t0) / 1000 });
    fs.writeFileSync(path.join(job.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  };
  const snap = (): void => {
    if (!job.sampleAt.includes(t.epoch)) return;
    t.updateGeneratorBatchNorm();
    const s = writeSamples(t, job, real, judged?.judge ?? null);
    report.samples.push(s);
    saveGan(t, job);
    writeReport();
    log(sampleLine(s, job));
  };
  snap();
  for (let e = 1; e <= job.epochs; e++) {
    const l = t.trainEpoch();
    const cov = job.data === 'ring8' ? modeCoverage(t.sample(1000, 7), ringCentres(), RING.sigma) : null;
    fs.appendFileSync(path.join(job.out, 'log.jsonl'), JSON.stringify({ epoch: e, step: t.step, lossD: l.lossD, lossG: l.lossG, ...(cov ? { modesCovered: cov.covered, highQuality: cov.highQuality } : {}), time: (performance.now() - t0) / 1000 }) + '\n');
    if (e % Math.max(1, Math.round(job.epochs / 10)) === 0 || e === job.epochs) log(`epoch ${e}/${job.epochs} (step ${t.step}): loss D ${l.lossD.toFixed(3)}, loss G ${l.lossG.toFixed(3)}${cov ? `, modes ${cov.covered}/8` : ''}`);
    snap();
  }
  t.updateGeneratorBatchNorm();
  saveGan(t, job);
  writeReport();
  log(`done in ${report.seconds.toFixed(1)} s (${t.step} steps${judged ? '; scoring included' : ''}); saved ${path.join(job.out, 'checkpoint')} and report.json`);
  return report;
}

/** Loads a GAN checkpoint's generator (the folder, or a run folder holding checkpoint/). */
export function loadGenerator(p: string): { G: Generator; config: GanConfig; data: string } {
  const dir = fs.existsSync(path.join(p, 'config.json')) ? p : path.join(p, 'checkpoint');
  const cf = path.join(dir, 'config.json');
  if (!fs.existsSync(cf)) throw new Error(`${p}: not a GAN checkpoint (no config.json here nor in checkpoint/)`);
  const c = readJSONFile(cf) as { format?: string; version?: number; gan: GanConfig; data: string };
  if (c.format !== GAN_FORMAT) throw new Error(`${cf}: not a GAN checkpoint (format ${JSON.stringify(c.format)}); train one with gptlab gan train`);
  if (c.gan.sampleShape.length === 3 && c.version !== GAN_VERSION) throw new Error(`${cf}: an image GAN of checkpoint version ${c.version} (sigmoid output); this gptlab reads version ${GAN_VERSION} — train it again with gptlab gan train`);
  const G = new Generator(ganConfig(c.gan), new Rng(0));
  const st = path.join(dir, 'model.safetensors');
  loadModuleSafetensors(G, new Uint8Array(fs.readFileSync(st)), st, 'generator.');
  return { G, config: c.gan, data: c.data };
}

/** n samples of a checkpoint's generator: an image grid PNG for images, a scatter SVG for points */
export function ganSampleFile(p: string, n: number, seed: number): { bytes: Uint8Array | string; kind: 'png' | 'svg' } {
  const { G, config } = loadGenerator(p), x = sampleGenerator(G, n, seed);
  if (config.sampleShape.length === 1) return { bytes: scatterSVG(x, { title: `${n} samples`, centres: ringCentres(), extent: [-3, 3, -3, 3] }), kind: 'svg' };
  const [, H, W] = config.sampleShape;
  return { bytes: gridPNG({ data: x, shape: [n, H, W] }, { range: [-1, 1] }), kind: 'png' };
}

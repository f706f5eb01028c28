// `gptlab vision` on disk: train an image classifier (MLP or LeNet-style CNN) on the built-in glyphs or a
// pixel CSV into a run folder, and predict with it. A run folder holds
//   checkpoint/  config.json (model config, classes, train config), model.safetensors, optimizer.safetensors,
//                trainer_state.json — resumable
//   best/        the model with the lowest test loss (config.json + model.safetensors)
//   loss.svg, log.jsonl, confusion.svg, misclassified.png (a grid of the test images it got wrong)
import fs from 'node:fs';
import path from 'node:path';
import { noGrad } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { ImageClassifier, imageClassifierConfig, type ImageClassifierConfig } from '../models/image-classifier.js';
import { glyphDataset } from '../data/glyphs.js';
import { checkClassesPresent, parsePixelsCSV, type PixelsCSVOptions } from '../data/pixels-csv.js';
import { imageCount, splitImages, subsetImages, type ImageSet } from '../data/image-set.js';
import { classificationMetrics, confusionMatrixSVG, formatConfusionMatrix, type ClassificationMetrics } from '../eval/classification.js';
import { gridPNG } from '../eval/png.js';
import { readSafetensors } from '../formats/safetensors.js';
import { readTextFile } from '../formats/text-file.node.js';
import { ImageClassification, predictImages, accuracyOf } from './image-classification.js';
import { loadModuleSafetensors, moduleToSafetensors } from './module-files.js';
import { RunFolder, evalLine, recordedPath } from './run-folder.node.js';
import { readJSONFile, resolveCheckpointDir } from './checkpoint.node.js';
import { trainerStateFiles, validateTrainState } from './checkpoint.js';
import { Trainer, type TrainConfig, type TrainOutcome, type TrainState } from './trainer.js';
import { checkResumedOptimizer } from './resumed-optimizer.js';

export const VISION_FORMAT = 'gptlab-vision';

/** where a run's images come from; a resumed run keeps its own for those not given again */
export interface VisionDataSettings {
  /** pixel CSV; default the built-in glyphs */
  data?: string;
  csv: PixelsCSVOptions;
  /** share of --data held out as the test set */
  testFraction: number;
  /** built-in glyphs: canvas side and images per class */
  glyphSize: number;
  glyphTrainPerClass: number;
  glyphTestPerClass: number;
}

/** the data settings of a run given no flags */
export const VISION_DATA_DEFAULTS: VisionDataSettings = { csv: { labelColumn: 'first' }, testFraction: 0.2, glyphSize: 16, glyphTrainPerClass: 200, glyphTestPerClass: 50 };

export interface VisionTrainJob extends Partial<VisionDataSettings> {
  model: Partial<ImageClassifierConfig> & { arch: 'mlp' | 'cnn' };
  /** training settings, --optimizer and its options among them (AdamW without them) */
  train: Partial<TrainConfig>;
  out: string;
  resume?: boolean;
  force?: boolean;
}

/** train and test sets with a line saying where they came from */
export function loadVisionData(job: VisionDataSettings & { train: Partial<TrainConfig> }): { train: ImageSet; test: ImageSet; source: string } {
  if (!job.data) {
    const g = glyphDataset({ size: job.glyphSize, trainPerClass: job.glyphTrainPerClass, testPerClass: job.glyphTestPerClass, seed: job.train.seed ?? 1 });
    return { ...g, source: `built-in glyphs ${job.glyphSize}×${job.glyphSize}: ${imageCount(g.train)} train, ${imageCount(g.test)} test images` };
  }
  const all = parsePixelsCSV(readTextFile(job.data, 'pixel data'), job.data, job.csv);
  checkClassesPresent(all, job.data);
  const s = splitImages(all, job.testFraction, new Rng((job.train.seed ?? 1) ^ 0x9e3779b9));
  return { ...s, source: `${job.data}: ${all.height}×${all.width}, ${all.classes.length} classes, ${imageCount(s.train)} train, ${imageCount(s.test)} test images` };
}

/** the checkpoint files of a model (and, for resuming, its trainer) */
function visionFiles(model: ImageClassifier, trainer: Trainer | null, meta: Record<string, unknown>): Record<string, Uint8Array | string> {
  const config = { format: VISION_FORMAT, version: 1, model_type: model.type, model: model.config, train: trainer?.config, meta };
  const files: Record<string, Uint8Array | string> = { 'config.json': JSON.stringify(config, null, 2) + '\n', 'model.safetensors': moduleToSafetensors(model) };
  return trainer ? { ...files, ...trainerStateFiles(trainer) } : files;
}

/** Loads a vision checkpoint (folder, or run folder → best/); throws one line for anything else. */
export function loadVisionModel(p: string): { model: ImageClassifier; dir: string; config: Record<string, unknown> } {
  const dir = resolveCheckpointDir(p);
  const cfg = readJSONFile(path.join(dir, 'config.json')) as { format?: string; model: ImageClassifierConfig };
  if (cfg.format !== VISION_FORMAT) throw new Error(`${dir}: not an image classifier checkpoint (format ${JSON.stringify(cfg.format)}); train one with gptlab vision train`);
  const model = new ImageClassifier(cfg.model);
  const st = path.join(dir, 'model.safetensors');
  loadModuleSafetensors(model, new Uint8Array(fs.readFileSync(st)), st);
  return { model, dir, config: cfg as unknown as Record<string, unknown> };
}

export interface VisionReport {
  metrics: ClassificationMetrics;
  wrong: number;
}

/**
 * Scores `model` on `set`: prints accuracy and the confusion matrix, writes confusion.svg and
 * misclassified.png (up to 64 wrong test images, in order) into `dir`.
 */
export function reportVision(model: ImageClassifier, set: ImageSet, dir: string, what: string, log: (l: string) => void): VisionReport {
  model.eval();
  const r = noGrad(() => predictImages(model, set));
  const metrics = classificationMetrics(set.labels, r.pred, model.config.classes);
  log(`${what}: accuracy ${(100 * accuracyOf(r.pred, set.labels)).toFixed(2)}% on ${imageCount(set)} images\n\n${formatConfusionMatrix(metrics)}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'confusion.svg'), confusionMatrixSVG(metrics, `${what}: confusion matrix`));
  const wrongRows = [...r.pred.keys()].filter((i) => r.pred[i] !== set.labels[i]);
  if (wrongRows.length) {
    const w = subsetImages(set, wrongRows.slice(0, 64));
    fs.writeFileSync(path.join(dir, 'misclassified.png'), gridPNG({ data: w.images, shape: [imageCount(w), w.height, w.width] }, { range: [0, 1], perRow: 8 }));
    log(`wrong: ${wrongRows.slice(0, 16).map((i) => `#${i} ${set.classes[set.labels[i]]}→${set.classes[r.pred[i]]}`).join(', ')}${wrongRows.length > 16 ? ', …' : ''}`);
  }
  log(`wrote ${path.join(dir, 'confusion.svg')}${wrongRows.length ? ` and misclassified.png (${Math.min(64, wrongRows.length)} of ${wrongRows.length} wrong)` : ' (no mistakes: no misclassified.png)'}`);
  return { metrics, wrong: wrongRows.length };
}

/** the fields of `o` that are not undefined */
const definedFields = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * What a resumed run trains with: its saved settings (data, images, training, and the optimizer it was trained
 * with, whose moments it restores) under those given now; --optimizer and its options given now must repeat the
 * run's own (checkResumedOptimizer throws one line otherwise). β1/β2 are the command's own, never given. Runs
 * from before data settings were recorded fall back to the defaults.
 */
function resumedSettings(job: VisionTrainJob, config: Record<string, unknown>): VisionDataSettings & { train: Partial<TrainConfig> } {
  const { beta1: _b1, beta2: _b2, ...given } = job.train;
  const savedTrain = (config.train ?? {}) as Partial<TrainConfig>;
  const kept = checkResumedOptimizer(given, savedTrain, 'vision train');
  const meta = (config.meta ?? {}) as { data?: string; dataSettings?: Partial<VisionDataSettings> };
  const data = meta.data && meta.data !== 'glyphs' ? meta.data : undefined;
  return { ...VISION_DATA_DEFAULTS, data, ...definedFields(meta.dataSettings ?? {}), ...definedFields(job), train: { ...savedTrain, ...kept } };
}

/** Trains per `job` into its run folder and reports the best model on the test set. */
export async function runVisionTrain(job: VisionTrainJob, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): Promise<VisionReport & { outcome: TrainOutcome; seconds: number }> {
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.data], command: 'vision train' });
  const saved = job.resume && fs.existsSync(folder.checkpointDir) ? loadVisionModel(folder.checkpointDir) : null;
  const settings = saved ? resumedSettings(job, saved.config) : { ...VISION_DATA_DEFAULTS, ...definedFields(job), train: job.train };
  const data = loadVisionData(settings);
  log(`data: ${data.source}`);
  let model: ImageClassifier, state: { s: TrainState; m: Map<string, Float32Array> } | null = null;
  if (saved) {
    model = saved.model;
    const s = validateTrainState(readJSONFile(path.join(folder.checkpointDir, 'trainer_state.json')), folder.checkpointDir);
    const opt = path.join(folder.checkpointDir, 'optimizer.safetensors');
    const f = readSafetensors(new Uint8Array(fs.readFileSync(opt)), opt);
    state = { s, m: new Map([...f.tensors].map(([k, e]) => [k, e.data as Float32Array])) };
  } else model = new ImageClassifier(imageClassifierConfig({ ...job.model, height: data.train.height, width: data.train.width, classes: data.train.classes }), job.train.seed ?? 1337);
  log(`model: ${model.describe()}`);
  const trainer = new Trainer(model, new ImageClassification(data.train, data.test), { sampleAt: [], ...settings.train });
  if (state) trainer.restore(state.s, state.m);
  const { csv, testFraction, glyphSize, glyphTrainPerClass, glyphTestPerClass } = settings;
  const meta = { data: settings.data ? recordedPath(settings.data) : 'glyphs', dataSettings: { csv, testFraction, glyphSize, glyphTrainPerClass, glyphTestPerClass } }, t0 = performance.now();
  const outcome = await trainer.run({
    onEval: (e) => {
      folder.appendLog({ step: e.step, train: e.train, dev: e.dev, ...e.metrics, time: (performance.now() - t0) / 1000 }); // before the checkpoint (RunFolder.appendLog)
      folder.saveCheckpoint(visionFiles(model, trainer, meta));
      if (e.improved) folder.saveBest(visionFiles(model, null, { ...meta, step: e.step, testLoss: e.dev, ...e.metrics }));
      folder.writePlot(trainer.state.history, trainer.objective.lossLabel);
      log(evalLine(e));
    },
  });
  folder.saveCheckpoint(visionFiles(model, trainer, meta));
  if (!folder.hasBest()) folder.saveBest(visionFiles(model, null, meta));
  const seconds = (performance.now() - t0) / 1000;
  log(`${outcome} at step ${trainer.state.step} in ${seconds.toFixed(1)} s; saved ${job.out}/{checkpoint,best,loss.svg}`);
  const best = loadVisionModel(folder.bestDir).model;
  const set = imageCount(data.test) ? data.test : data.train;
  return { ...reportVision(best, set, job.out, imageCount(data.test) ? 'test set (best/)' : 'training set (best/)', log), outcome, seconds };
}

/**
 * Predicts with a checkpoint on a labelled pixel CSV; writes confusion.svg and misclassified.png into `outDir`,
 * by default predict/ inside the run folder (the folder above best/ or checkpoint/, else the checkpoint folder),
 * so the training run's own confusion.svg and misclassified.png stay as training left them.
 */
export function runVisionPredict(ckpt: string, dataFile: string, csv: PixelsCSVOptions, log: (l: string) => void = (l) => process.stdout.write(l + '\n'), outDir?: string): VisionReport {
  const { model, dir } = loadVisionModel(ckpt);
  const c = model.config;
  const set = parsePixelsCSV(readTextFile(dataFile, 'pixel data'), dataFile, { ...csv, imageSize: csv.imageSize ?? c.height, classes: c.classes });
  if (set.height !== c.height || set.width !== c.width) throw new Error(`${dataFile}: ${set.height}×${set.width} images, the model takes ${c.height}×${c.width}`);
  const runDir = ['best', 'checkpoint'].includes(path.basename(dir)) ? path.dirname(dir) : dir;
  return reportVision(model, set, outDir ?? path.join(runDir, 'predict'), dataFile, log);
}

// `gptlab classify` on disk: fine-tune BERT for sentence classification on a CSV/JSONL file of (text, label)
// — or the built-in topic task — into a run folder, then report the best model's dev accuracy, per-class
// P/R/F1 and confusion matrix (printed, and confusion.svg in the run folder); and predict with a fine-tuned
// checkpoint, scoring the predictions when the input has labels.
import fs from 'node:fs';
import path from 'node:path';
import { noGrad } from '../tensor/tensor.js';
import { registerBertTypes } from '../models/bert-type.js';
import { registerModelType } from '../models/registry.js';
import { BertForSequenceClassification } from '../models/bert-heads.js';
import { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { builtinClassificationTask, encodeTexts, labelIndices, labelSet, parseClassificationData, type LabeledText } from '../data/classification-data.js';
import { readTextFile } from '../formats/text-file.node.js';
import { classificationMetrics, confusionMatrixSVG, formatClassificationReport, formatConfusionMatrix, type ClassificationMetrics } from '../eval/classification.js';
import { predictClasses, SequenceClassification } from './classification.js';
import { loadCheckpoint } from './checkpoint.node.js';
import { recordedPath, RunFolder, type RunResult } from './run-folder.node.js';
import { finetuneStart, runFinetune, type FinetuneJob } from './finetune-job.node.js';

export interface ClassifyTrainJob extends Omit<FinetuneJob, 'task' | 'meta'> {
  /** training file (CSV or JSONL of text,label); default the built-in topic task */
  data?: string;
  /** dev file; default a share of --data (devFraction), or the built-in dev part */
  dev?: string;
  devFraction: number;
  /** longest input in pieces, [CLS] and [SEP] included (at most the model's positions) */
  maxLen: number;
}

interface Splits { train: LabeledText[]; dev: LabeledText[]; labels: string[]; trainName: string; devName: string }

/** training and dev examples with the label set (from the training data; every class needs an example) */
function loadSplits(job: ClassifyTrainJob, log: (l: string) => void): Splits {
  if (!job.data) {
    const b = builtinClassificationTask();
    log(`data: built-in topic classification (${b.labels.join(', ')}): ${b.train.length} train, ${b.dev.length} dev sentences`);
    return { ...b, trainName: 'built-in', devName: 'built-in' };
  }
  const all = parseClassificationData(readTextFile(job.data, 'classification data'), job.data);
  let train = all, dev: LabeledText[] = [], devName = job.data;
  if (job.dev) (dev = parseClassificationData(readTextFile(job.dev, 'dev data'), job.dev)), (devName = job.dev);
  else {
    const nDev = Math.floor(all.length * job.devFraction);
    (dev = all.slice(all.length - nDev)), (train = all.slice(0, all.length - nDev));
  }
  // labels from all of --data, so that a class whose examples all fell into the dev share is named as empty
  const labels = labelSet(job.dev ? train : all, job.data);
  labelIndices(train, labels, job.data, true);
  log(`data: ${job.data}: ${train.length} train, ${dev.length} dev examples; labels ${labels.join(', ')}`);
  return { train, dev, labels, trainName: job.data, devName };
}

export interface ClassifyTrainResult extends RunResult {
  /** the best model's scores on the dev set (absent without dev data) */
  metrics?: ClassificationMetrics;
}

/** Fine-tunes a classifier (see ClassifyTrainJob); reports the best checkpoint's dev scores. */
export async function runClassifyTrain(job: ClassifyTrainJob, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): Promise<ClassifyTrainResult> {
  registerBertTypes(registerModelType);
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.base, job.data, job.dev], command: 'classify train' });
  const d = loadSplits(job, log);
  const fj: FinetuneJob = { ...job, task: 'bert-seq-cls', meta: job.data ? { data: recordedPath(d.trainName), dev: recordedPath(d.devName) } : { data: d.trainName, dev: d.devName } };
  const start = finetuneStart(fj, folder, d.labels, d.train.map((e) => e.text).join('\n'), log);
  const maxLen = Math.min(job.maxLen, start.model.config.blockSize);
  const pad = start.tokenizer.tokenToId('[PAD]') ?? 0;
  const enc = (xs: LabeledText[], file: string) => encodeTexts(xs, labelIndices(xs, d.labels, file), start.tokenizer, maxLen);
  const objective = new SequenceClassification(enc(d.train, d.trainName), enc(d.dev, d.devName), d.labels, pad);
  const res = await runFinetune(fj, folder, start, objective, log);
  if (!d.dev.length) return res;
  const best = loadCheckpoint(folder.dir);
  const metrics = scoreClassifier(best.model as BertForSequenceClassification, best.tokenizer as WordPieceTokenizer, d.dev, d.devName, maxLen).metrics!;
  log(`dev accuracy of best/: ${(100 * metrics.accuracy).toFixed(1)}% (${d.dev.length} examples)\n${formatClassificationReport(metrics)}\n\n${formatConfusionMatrix(metrics)}`);
  fs.writeFileSync(path.join(job.out, 'confusion.svg'), confusionMatrixSVG(metrics, `${path.basename(path.resolve(job.out))}: dev confusion matrix`));
  log(`wrote ${path.join(job.out, 'confusion.svg')}`);
  return { ...res, metrics };
}

/** predictions (label, probability) for examples; metrics when every example has a label */
export function scoreClassifier(model: BertForSequenceClassification, tok: WordPieceTokenizer, xs: LabeledText[], file: string, maxLen: number): { pred: string[]; prob: number[]; metrics?: ClassificationMetrics } {
  const labels = model.config.labels;
  const labelled = xs.every((x) => x.label !== '');
  const gold = labelled ? labelIndices(xs, labels, file) : new Int32Array(xs.length);
  model.eval();
  const r = noGrad(() => predictClasses(model, encodeTexts(xs, gold, tok, Math.min(maxLen, model.config.blockSize)), tok.tokenToId('[PAD]') ?? 0));
  const pred = Array.from(r.pred, (k) => labels[k]);
  const prob = Array.from(r.pred, (k, i) => r.probs[i * labels.length + k]);
  return { pred, prob, metrics: labelled && xs.length ? classificationMetrics(gold, r.pred, labels) : undefined };
}

/**
 * Predicts with a fine-tuned checkpoint: texts given directly, or a CSV/JSONL file (whose labels, when
 * present, are scored). Prints `label<TAB>probability<TAB>text` per example, then the scores.
 */
export function runClassifyPredict(ckpt: string, input: { texts?: string[]; file?: string; svg?: string }, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): ClassificationMetrics | undefined {
  registerBertTypes(registerModelType);
  const ck = loadCheckpoint(ckpt);
  if (!(ck.model instanceof BertForSequenceClassification) || !(ck.tokenizer instanceof WordPieceTokenizer)) throw new Error(`${ckpt}: not a BERT sequence classifier (model type ${ck.model.type}); train one with gptlab classify train`);
  const xs: LabeledText[] = input.file
    ? parseClassificationData(readTextFile(input.file, 'classification data'), input.file, false)
    : (input.texts ?? []).map((text, i) => ({ text, label: '', line: i + 1 }));
  if (!xs.length) throw new Error('classify predict: give texts, or --data FILE');
  const empty = input.file ? -1 : xs.findIndex((x) => x.text.trim() === '');
  if (empty >= 0) throw new Error(`classify predict: text ${empty + 1} is empty`);
  const r = scoreClassifier(ck.model, ck.tokenizer, xs, input.file ?? 'arguments', ck.model.config.blockSize);
  xs.forEach((x, i) => log(`${r.pred[i]}\t${r.prob[i].toFixed(3)}\t${x.text}`));
  if (r.metrics) {
    log(`\naccuracy ${(100 * r.metrics.accuracy).toFixed(1)}% on ${xs.length} examples\n${formatClassificationReport(r.metrics)}\n\n${formatConfusionMatrix(r.metrics)}`);
    if (input.svg) fs.writeFileSync(input.svg, confusionMatrixSVG(r.metrics));
  }
  return r.metrics;
}

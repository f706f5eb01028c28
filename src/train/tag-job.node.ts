// `gptlab tag` on disk: fine-tune BERT for token classification on a JSONL file of {"tokens", "tags"} — or the
// built-in character-tagging task (中国的首都是北京 → B E O O O O B E) — into a run folder, then report the best
// model's entity-level scores (seqeval, default mode); and tag sentences with a fine-tuned checkpoint.
import { noGrad } from '../tensor/tensor.js';
import { registerBertTypes } from '../models/bert-type.js';
import { registerModelType } from '../models/registry.js';
import { BertForTokenClassification } from '../models/bert-heads.js';
import { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { builtinTaggingTask, encodeTagged, parseTaggingData, tagSet, type TaggedSentence } from '../data/tagging-data.js';
import { readTextFile } from '../formats/text-file.node.js';
import { formatSeqevalReport, seqevalReport, type SeqevalReport } from '../eval/seqeval.js';
import { predictTags, TokenClassification } from './classification.js';
import { loadCheckpoint } from './checkpoint.node.js';
import { recordedPath, RunFolder, type RunResult } from './run-folder.node.js';
import { finetuneStart, runFinetune, type FinetuneJob } from './finetune-job.node.js';

export interface TagTrainJob extends Omit<FinetuneJob, 'task' | 'meta'> {
  /** training file (JSONL of tokens and tags); default the built-in capital-city task */
  data?: string;
  dev?: string;
  devFraction: number;
  maxLen: number;
}

interface Splits { train: TaggedSentence[]; dev: TaggedSentence[]; tags: string[]; trainName: string; devName: string }

function loadSplits(job: TagTrainJob, log: (l: string) => void): Splits {
  if (!job.data) {
    const b = builtinTaggingTask();
    log(`data: built-in character tagging of place names (中国的首都是北京 → B E O O O O B E): ${b.train.length} train, ${b.dev.length} dev sentences`);
    return { ...b, trainName: 'built-in', devName: 'built-in' };
  }
  const all = parseTaggingData(readTextFile(job.data, 'tagging data'), job.data);
  let train = all, dev: TaggedSentence[] = [], devName = job.data;
  if (job.dev) (dev = parseTaggingData(readTextFile(job.dev, 'dev data'), job.dev)), (devName = job.dev);
  else {
    const nDev = Math.floor(all.length * job.devFraction);
    (dev = all.slice(all.length - nDev)), (train = all.slice(0, all.length - nDev));
  }
  const tags = tagSet(train, job.data);
  log(`data: ${job.data}: ${train.length} train, ${dev.length} dev sentences; tags ${tags.join(', ')}`);
  return { train, dev, tags, trainName: job.data, devName };
}

export interface TagTrainResult extends RunResult {
  report?: SeqevalReport;
}

/** Fine-tunes a tagger (see TagTrainJob); reports the best checkpoint's entity scores on the dev set. */
export async function runTagTrain(job: TagTrainJob, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): Promise<TagTrainResult> {
  registerBertTypes(registerModelType);
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.base, job.data, job.dev], command: 'tag train' });
  const d = loadSplits(job, log);
  const fj: FinetuneJob = { ...job, task: 'bert-token-cls', meta: job.data ? { data: recordedPath(d.trainName), dev: recordedPath(d.devName) } : { data: d.trainName, dev: d.devName } };
  const start = finetuneStart(fj, folder, d.tags, d.train.map((s) => s.tokens.join(' ')).join('\n'), log);
  const maxLen = Math.min(job.maxLen, start.model.config.blockSize);
  const index = new Map(d.tags.map((t, i) => [t, i]));
  const enc = (xs: TaggedSentence[], file: string) => xs.map((s) => encodeTagged(s, start.tokenizer, index, maxLen, file));
  const objective = new TokenClassification(enc(d.train, d.trainName), enc(d.dev, d.devName), d.dev.map((s) => s.tags), d.tags, start.tokenizer.tokenToId('[PAD]') ?? 0);
  const res = await runFinetune(fj, folder, start, objective, log);
  if (!d.dev.length) return res;
  const best = loadCheckpoint(folder.dir);
  const pred = tagSentences(best.model as BertForTokenClassification, best.tokenizer as WordPieceTokenizer, d.dev, maxLen);
  const report = seqevalReport(d.dev.map((s) => s.tags), pred);
  log(`dev entity F1 of best/: ${(100 * report.micro.f1).toFixed(1)}%, token accuracy ${(100 * report.accuracy).toFixed(1)}% (${d.dev.length} sentences)\n${formatSeqevalReport(report)}`);
  return { ...res, report };
}

/** the predicted tag of every token of every sentence */
export function tagSentences(model: BertForTokenClassification, tok: WordPieceTokenizer, xs: TaggedSentence[], maxLen: number): string[][] {
  model.eval();
  const enc = xs.map((s) => encodeTagged({ ...s, tags: [] }, tok, null, Math.min(maxLen, model.config.blockSize)));
  return noGrad(() => predictTags(model, enc, model.config.labels, tok.tokenToId('[PAD]') ?? 0).tags);
}

/**
 * Tags with a fine-tuned checkpoint: sentences given as text (split into characters when `chars`, else on
 * whitespace) or a JSONL file (whose tags, when present, are scored; a tag outside the model's tag set throws
 * `file:line: …`). Prints `token/TAG` per sentence.
 */
export function runTagPredict(ckpt: string, input: { texts?: string[]; file?: string; chars?: boolean }, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): SeqevalReport | undefined {
  registerBertTypes(registerModelType);
  const ck = loadCheckpoint(ckpt);
  if (!(ck.model instanceof BertForTokenClassification) || !(ck.tokenizer instanceof WordPieceTokenizer)) throw new Error(`${ckpt}: not a BERT tagger (model type ${ck.model.type}); train one with gptlab tag train`);
  const split = (t: string): string[] => (input.chars ? [...t].filter((c) => c.trim() !== '') : t.split(/\s+/).filter(Boolean));
  const xs: TaggedSentence[] = input.file
    ? parseTaggingData(readTextFile(input.file, 'tagging data'), input.file, false)
    : (input.texts ?? []).map((t, i) => ({ tokens: split(t), tags: [], line: i + 1 })).filter((s) => s.tokens.length);
  if (!xs.length) throw new Error('tag predict: give sentences, or --data FILE');
  const known = new Set(ck.model.config.labels);
  for (const s of xs) {
    const bad = s.tags.find((t) => !known.has(t));
    if (bad !== undefined) throw new Error(`${input.file}:${s.line}: tag ${JSON.stringify(bad)} is not in the model's tag set (${ck.model.config.labels.join(', ')})`);
  }
  const pred = tagSentences(ck.model, ck.tokenizer, xs, ck.model.config.blockSize);
  xs.forEach((s, i) => log(s.tokens.map((t, j) => `${t}/${pred[i][j]}`).join(' ')));
  if (!xs.every((s) => s.tags.length)) return undefined;
  const report = seqevalReport(xs.map((s) => s.tags), pred);
  log(`\nentity F1 ${(100 * report.micro.f1).toFixed(1)}%, token accuracy ${(100 * report.accuracy).toFixed(1)}% on ${xs.length} sentences\n${formatSeqevalReport(report)}`);
  return report;
}

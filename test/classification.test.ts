// Classification metrics by hand (accuracy, per-class and macro/weighted/micro P/R/F1, confusion matrix as
// table and SVG), the CSV/JSONL and tagging readers' file:line errors, the built-in tasks, and the
// fine-tuning objectives on the one Trainer: a tiny BERT learns the built-in classification and tagging tasks
// (a few seconds each; the ≥ 95% targets are reported by the CLI, not asserted here beyond a loose floor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../src/backend/index.node.js';
import { classificationMetrics, confusionMatrixSVG, formatClassificationReport, formatConfusionMatrix } from '../src/eval/classification.js';
import { builtinClassificationTask, encodeTexts, labelIndices, labelSet, parseClassificationData, parseCsvLine } from '../src/data/classification-data.js';
import { builtinTaggingTask, encodeTagged, parseTaggingData, tagSet } from '../src/data/tagging-data.js';
import { WordPieceTokenizer } from '../src/tokenizers/wordpiece.js';
import { BertForSequenceClassification, BertForTokenClassification } from '../src/models/bert-heads.js';
import { BERT_PRESETS } from '../src/models/bert-config.js';
import { SequenceClassification, TokenClassification } from '../src/train/classification.js';
import { Trainer } from '../src/train/trainer.js';

const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;

test('classification metrics by hand', () => {
  // gold a a a b b c, pred a a b b c c
  const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ['a', 'b', 'c']);
  assert.ok(near(m.accuracy, 4 / 6));
  assert.deepEqual(m.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
  const [a, b, c] = m.perClass;
  assert.ok(near(a.precision, 1) && near(a.recall, 2 / 3) && near(a.f1, 0.8) && a.support === 3);
  assert.ok(near(b.precision, 0.5) && near(b.recall, 0.5) && near(b.f1, 0.5));
  assert.ok(near(c.precision, 0.5) && near(c.recall, 1) && near(c.f1, 2 / 3));
  assert.ok(near(m.macro.f1, (0.8 + 0.5 + 2 / 3) / 3));
  assert.ok(near(m.weighted.f1, (0.8 * 3 + 0.5 * 2 + (2 / 3) * 1) / 6));
  assert.ok(near(m.micro.f1, m.accuracy));
  // a class never predicted and never present: zeros, not NaN
  const z = classificationMetrics([0, 0], [0, 0], ['x', 'y']);
  assert.deepEqual(z.perClass[1], { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.match(formatClassificationReport(m), /macro avg +0\.667 +0\.722 +0\.656 +6/);
  assert.match(formatConfusionMatrix(m), /^a +2 +1 +0$/m);
  const svg = confusionMatrixSVG({ ...m, labels: ['a<b', 'b', 'c'] });
  assert.ok(svg.startsWith('<svg') && svg.includes('a&lt;b') && (svg.match(/<rect x=/g) ?? []).length === 9);
  assert.throws(() => classificationMetrics([0], [3], ['a', 'b']), /predicted label 3 of item 0 is outside the 2 labels/);
  assert.throws(() => classificationMetrics([], [], ['a']), /no items/);
});

test('CSV / JSONL readers: file:line errors for wrong width, unknown labels, empty classes', () => {
  assert.deepEqual(parseCsvLine('"a, ""b""",pos', 'x'), ['a, "b"', 'pos']);
  const ok = parseClassificationData('text,label\n"good, very good",pos\nbad,neg\n', 'd.csv');
  assert.deepEqual(ok.map((e) => [e.text, e.label, e.line]), [['good, very good', 'pos', 2], ['bad', 'neg', 3]]);
  assert.throws(() => parseClassificationData('a,pos\nb,neg,extra\n', 'd.csv'), /^Error: d\.csv:2: expected 2 fields \(text,label\), got 3$/);
  assert.throws(() => parseClassificationData('"a,pos\n', 'd.csv'), /d\.csv:1: unclosed quote \(quoted fields cannot span lines\)/);
  assert.throws(() => parseClassificationData('"two\nlines",pos\n', 'd.csv'), /d\.csv:1: unclosed quote \(quoted fields cannot span lines\)/);
  assert.throws(() => parseClassificationData('{"text":"a","label":"x"}\n{"text":"b"}\n', 'd.jsonl'), /^Error: d\.jsonl:2: field "label" is missing$/);
  assert.throws(() => parseClassificationData('{"label":"x"}\n', 'd.jsonl'), /^Error: d\.jsonl:1: field "text" is missing$/);
  assert.throws(() => parseClassificationData('{"text":"a","label":3.5e400}\n{"text":"b","label":[1]}\n', 'd.jsonl'), /d\.jsonl:2: field "label" must be a string, got \[1\]/);
  // headers: known column names in either order, any case; other first rows are data
  const rows = (csv: string, req = true) => parseClassificationData(csv, 'd.csv', req).map((e) => [e.text, e.label]);
  assert.deepEqual(rows('sentence,category\ngood film,pos\nbad,neg\n'), [['good film', 'pos'], ['bad', 'neg']]);
  assert.deepEqual(rows('Label, Text\npos,good film\nneg,bad\n'), [['good film', 'pos'], ['bad', 'neg']]);
  assert.deepEqual(rows('class,review\npos,"good, really"\n'), [['good, really', 'pos']]);
  assert.deepEqual(rows('label,text\npos,good\nneg\n', false), [['good', 'pos'], ['neg', '']]);
  assert.deepEqual(rows('sentence\ngood film\n', false), [['good film', '']]);
  assert.deepEqual(rows('hello,world\nbad,neg\n'), [['hello', 'world'], ['bad', 'neg']]);
  assert.deepEqual(rows('a,pos\ntext,label\n'), [['a', 'pos'], ['text', 'label']]); // only the first row can be a header
  assert.throws(() => parseClassificationData('label,text\npos,a,b\n', 'd.csv'), /d\.csv:2: expected 2 fields \(label,text\), got 3/);
  assert.throws(() => parseClassificationData('{"text":"a","label":"x"}\n{oops\n', 'd.jsonl'), /d\.jsonl:2: not valid JSON/);
  assert.throws(() => parseClassificationData(' ,pos\n', 'd.csv'), /d\.csv:1: field "text" is empty/);
  const ex = parseClassificationData('{"text":"a","label":1}\n{"text":"b","label":"0"}\n{"text":"c","label":"2"}\n', 'd.jsonl');
  assert.deepEqual(labelSet(ex, 'd.jsonl'), ['0', '1', '2']);
  assert.throws(() => labelIndices(ex, ['0', '1'], 'd.jsonl'), /d\.jsonl:3: label "2" is not in the label set \(0, 1\)/);
  assert.throws(() => labelIndices(ex.slice(0, 2), ['0', '1', '2'], 'd.jsonl', true), /d\.jsonl: class "2" has no examples/);
  assert.throws(() => labelSet(ex.slice(0, 1), 'd.jsonl'), /needs at least 2 classes/);
  assert.throws(() => parseTaggingData('{"tokens":["a","b"],"tags":["O"]}\n', 't.jsonl'), /t\.jsonl:1: 1 tags for 2 tokens/);
  assert.throws(() => parseTaggingData('\n{"tokens":[],"tags":[]}\n', 't.jsonl'), /t\.jsonl:2: field "tokens" is empty/);
  assert.throws(() => parseTaggingData('{"tokens":["a"],"tags":[1]}\n', 't.jsonl'), /t\.jsonl:1: field "tags" must be an array of strings/);
  assert.equal(parseTaggingData('{"tokens":["a"]}\n', 't.jsonl', false)[0].tags.length, 0);
  // tags: O, a prefix alone, or PREFIX-TYPE with a BIO/BIOES/BILOU prefix
  assert.equal(parseTaggingData('{"tokens":["a","b","c","d","e","f","g"],"tags":["B-PER","I-PER","E-LOC","S-X","O","B","E"]}\n', 't.jsonl').length, 1);
  assert.equal(parseTaggingData('{"tokens":["a","b"],"tags":["U-ORG","L-ORG"]}\n', 't.jsonl').length, 1);
  for (const bad of ['X-PER', 'PER', 'B-', 'O-PER', 'b-PER', 'BI-PER', 'X']) {
    assert.throws(() => parseTaggingData(`\n{"tokens":["a","b"],"tags":["O",${JSON.stringify(bad)}]}\n`, 't.jsonl'), new RegExp(`^Error: t\\.jsonl:2: tag "${bad}" is not O or <PREFIX>-<TYPE> with a prefix B, I, E, S, L or U`), bad);
  }
  assert.throws(() => parseTaggingData('{"tokens":["a"],"tags":["X-PER"]}\n', 't.jsonl', false), /t\.jsonl:1: tag "X-PER"/);
});

test("built-in tasks: balanced topics; the notes' capital-city character tagging; encodings align tags with first pieces", () => {
  const c = builtinClassificationTask();
  assert.deepEqual(c.labels, ['food', 'music', 'sports', 'weather']);
  assert.equal(c.train.length + c.dev.length, 600);
  const t = builtinTaggingTask();
  const s = t.train.find((x) => x.tokens.join('') === '中国的首都是北京') ?? { tokens: [...'中国的首都是北京'], tags: ['B', 'E', 'O', 'O', 'O', 'O', 'B', 'E'], line: 0 };
  assert.deepEqual(s.tags, ['B', 'E', 'O', 'O', 'O', 'O', 'B', 'E']);
  assert.deepEqual(tagSet(t.train, 'builtin'), ['O', 'B', 'E', 'I']);
  const tok = WordPieceTokenizer.train(t.train.map((x) => x.tokens.join('')).join('\n') + '\n中国北京', 300);
  const enc = encodeTagged(s, tok, new Map(t.tags.map((g, i) => [g, i])), 64);
  assert.equal(enc.ids.length, 10); // [CLS] + 8 characters + [SEP]
  assert.deepEqual(enc.first, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(enc.labels, [-100, 1, 2, 0, 0, 0, 0, 1, 2, -100]);
  // words: a tag on the first piece, −100 on ## pieces
  const wp = new WordPieceTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'annoying', '##ly', 'ok']);
  const e2 = encodeTagged({ tokens: ['annoyingly', 'ok'], tags: ['B-X', 'O'], line: 3 }, wp, new Map([['O', 0], ['B-X', 1]]), 16);
  assert.deepEqual(e2.labels, [-100, 1, -100, 0, -100]);
  assert.throws(() => encodeTagged({ tokens: ['ok'], tags: ['I-Y'], line: 3 }, wp, new Map([['O', 0]]), 16, 'f.jsonl'), /f\.jsonl:3: tag "I-Y" is not in the tag set/);
});

const tiny = { ...BERT_PRESETS.tiny, nEmbd: 32, intermediateSize: 64, nLayer: 1, blockSize: 48, attentionDropout: 0 };

test('sequence classification objective: a tiny BERT learns the built-in topics', async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
  const task = builtinClassificationTask();
  const tok = WordPieceTokenizer.train(task.train.map((e) => e.text).join('\n'), 300);
  const enc = (xs: typeof task.train) => encodeTexts(xs, labelIndices(xs, task.labels, 'builtin'), tok, 48);
  const model = new BertForSequenceClassification({ ...tiny, vocabSize: tok.vocabSize, labels: task.labels });
  const trainer = new Trainer(model, new SequenceClassification(enc(task.train), enc(task.dev), task.labels, 0), { maxIters: 150, batchSize: 16, warmupIters: 10, evalInterval: 150, sampleAt: [] });
  let acc = 0;
  await trainer.run({ onEval: (e) => void (acc = e.metrics!.accuracy) });
  console.log(`# dev accuracy after 150 steps: ${acc}`);
  assert.ok(acc >= 0.9, `dev accuracy ${acc}`);
});

test('token classification objective: a tiny BERT learns the capital-city tagging (entity F1)', async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
  const task = builtinTaggingTask(300);
  const tok = WordPieceTokenizer.train(task.train.map((e) => e.tokens.join('')).join('\n'), 300);
  const idx = new Map(task.tags.map((t, i) => [t, i]));
  const model = new BertForTokenClassification({ ...tiny, vocabSize: tok.vocabSize, labels: task.tags });
  const obj = new TokenClassification(task.train.map((s) => encodeTagged(s, tok, idx, 48)), task.dev.map((s) => encodeTagged(s, tok, idx, 48)), task.dev.map((s) => s.tags), task.tags, 0);
  const trainer = new Trainer(model, obj, { maxIters: 150, batchSize: 16, warmupIters: 10, evalInterval: 150, sampleAt: [] });
  let f1 = 0;
  await trainer.run({ onEval: (e) => void (f1 = e.metrics!['entity F1']) });
  console.log(`# dev entity F1 after 150 steps: ${f1}`);
  assert.ok(f1 >= 0.6, `dev entity F1 ${f1}`);
  assert.throws(() => new Trainer(new BertForSequenceClassification({ ...tiny, vocabSize: tok.vocabSize, labels: task.tags }), obj), /tagging needs a bert-token-cls model/);
});

test('classify and tag jobs: built-in tasks into run folders, predictions, resume, file:line errors', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { runClassifyTrain, runClassifyPredict } = await import('../src/train/classify-job.node.js');
  const { runTagTrain, runTagPredict } = await import('../src/train/tag-job.node.js');
  await initBackend({ backend: 'wasm', threads: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-bert-'));
  const lines: string[] = [];
  const log = (l: string): void => void lines.push(l);
  const base = { devFraction: 0.1, resume: false, vocabSize: 300, maxLen: 48, quiet: true, preset: 'tiny', overrides: { nLayer: 1, nEmbd: 32, intermediateSize: 64 } };
  const c = await runClassifyTrain({ ...base, out: path.join(dir, 'cls'), train: { maxIters: 20, evalInterval: 10 } }, log);
  assert.ok(c.metrics && c.metrics.labels.length === 4 && fs.existsSync(path.join(dir, 'cls', 'confusion.svg')));
  const resumed = await runClassifyTrain({ ...base, out: path.join(dir, 'cls'), resume: true, train: { maxIters: 30 } }, log);
  assert.equal(resumed.steps, 10);
  const csv = path.join(dir, 'x.csv');
  fs.writeFileSync(csv, 'text,label\nthe band sang the chorus,music\n');
  assert.equal(runClassifyPredict(path.join(dir, 'cls'), { file: csv }, log)!.labels.length, 4);
  fs.writeFileSync(csv, 'text,label\nthe band sang,music\nrain,snow\n');
  assert.throws(() => runClassifyPredict(path.join(dir, 'cls'), { file: csv }, log), /x\.csv:3: label "snow" is not in the label set \(food, music, sports, weather\)/);
  const t = await runTagTrain({ ...base, out: path.join(dir, 'tag'), train: { maxIters: 20, evalInterval: 20 } }, log);
  assert.ok(t.report && t.report.accuracy > 0);
  const out: string[] = [];
  runTagPredict(path.join(dir, 'tag'), { texts: ['中国的首都是北京'], chars: true }, (l) => out.push(l));
  assert.match(out[0], /^中\/[BIEO] 国\/[BIEO] 的\/[BIEO]/);
  const jl = path.join(dir, 't.jsonl');
  fs.writeFileSync(jl, '{"tokens":["北","京"],"tags":["B","E"]}\n{"tokens":["北","京"],"tags":["B"]}\n');
  assert.throws(() => runTagPredict(path.join(dir, 'tag'), { file: jl }, log), /t\.jsonl:2: 1 tags for 2 tokens/);
  fs.writeFileSync(jl, '{"tokens":["北","京"],"tags":["B","E"]}\n\n{"tokens":["北","京"],"tags":["B-ORG","E"]}\n');
  assert.throws(() => runTagPredict(path.join(dir, 'tag'), { file: jl }, log), /^Error: .*t\.jsonl:3: tag "B-ORG" is not in the model's tag set \(O, B, E, I\)$/);
  assert.throws(() => runClassifyPredict(path.join(dir, 'cls'), { texts: ['the band sang', ''] }, log), /^Error: classify predict: text 2 is empty$/);
  assert.throws(() => runClassifyPredict(path.join(dir, 'cls'), { texts: [' '] }, log), /classify predict: text 1 is empty/);
  assert.throws(() => runClassifyPredict(path.join(dir, 'tag'), { texts: ['x'] }, log), /not a BERT sequence classifier \(model type bert-token-cls\)/);
  // a class present only in the dev share of --data has no training examples
  fs.writeFileSync(csv, 'a,x\nb,y\nc,x\nd,y\ne,z\n');
  await assert.rejects(runClassifyTrain({ ...base, data: csv, devFraction: 0.2, out: path.join(dir, 'z'), train: { maxIters: 1 } }, log), /x\.csv: class "z" has no examples/);
  fs.rmSync(dir, { recursive: true, force: true });
});

// Seq2seq with attention: vocabularies, the built-in parallel corpus and pair files, the attention (rows sum
// to 1, padding ignored, gradients), training on the one Trainer, greedy and beam decoding, run folders
// with resume, the CLI's translate and its SVG heatmap. Tiny models only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Seq2seq, type Seq2seqConfig } from '../src/models/seq2seq.js';
import { beamDecode, greedyDecode } from '../src/models/seq2seq-decode.js';
import { Seq2seqVocab } from '../src/models/seq2seq-vocab.js';
import { builtinParallelCorpus, grammarPairs, guessLevel, parseParallelPairs } from '../src/data/parallel-corpus.js';
import { encodePairs, meanLoss, Seq2seqObjective } from '../src/train/seq2seq.js';
import { Trainer } from '../src/train/trainer.js';
import { loadSeq2seq, runSeq2seqTrain, type Seq2seqJob } from '../src/train/seq2seq-job.node.js';
import { checkSourceText, seq2seqCommand } from '../src/cli/seq2seq.js';
import { UsageError } from '../src/cli/args.js';
import { heatmapSVG } from '../src/eval/heatmap-svg.js';
import { noGrad } from '../src/tensor/tensor.js';
import { capturingStdout } from './helpers/cli-result.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-s2s-'));

const PAIRS = [
  ['我爱中国', 'I love China'], ['他喜欢音乐', 'He likes music'], ['她去北京', 'She goes to Beijing'],
  ['我们喝茶', 'We drink tea'], ['你看电影', 'You watch movies'], ['他们读书', 'They read books'],
].map(([src, tgt], i) => ({ src, tgt, line: i + 1 }));
const SV = Seq2seqVocab.build(PAIRS.map((p) => p.src), 'char'), TV = Seq2seqVocab.build(PAIRS.map((p) => p.tgt), 'word');

function tiny(attention: 'additive' | 'dot', cell: 'gru' | 'lstm' = 'gru', bidirectional = true): Seq2seq {
  const c: Seq2seqConfig = { srcVocabSize: SV.size, vocabSize: TV.size, blockSize: 8, embDim: 8, hidden: 12, cell, bidirectional, attention, attnDim: 8, seed: 7 };
  return new Seq2seq(c);
}

test('vocabularies: Chinese by character, English by word, JSON round trip', () => {
  assert.deepEqual(SV.pieces('我爱中国'), ['我', '爱', '中', '国']);
  assert.deepEqual(TV.pieces('I love China.'), ['I', 'love', 'China', '.']);
  assert.equal(TV.decode(TV.encode('I love China')), 'I love China');
  assert.equal(SV.decode([...SV.encode('我爱中国'), 2, 5]), '我爱中国'); // stops at <eos>
  assert.equal(TV.encode('I love Mars')[2], 3); // <unk>
  assert.deepEqual(Seq2seqVocab.fromJSON(JSON.parse(JSON.stringify(TV.toJSON()))).tokens, TV.tokens);
  assert.throws(() => Seq2seqVocab.fromJSON({ level: 'word', tokens: ['a'] }, 'v.json'), /v\.json: vocabulary: token 0 must be <pad>/);
  assert.equal(guessLevel(['我爱中国']), 'char');
  assert.equal(guessLevel(['I love China']), 'word');
});

test('built-in corpus: a few thousand pairs with English agreement, a disjoint held-out split', () => {
  const all = grammarPairs(), c = builtinParallelCorpus();
  assert.ok(all.length > 3000 && all.length < 10000);
  const find = (src: string): string | undefined => all.find((p) => p.src === src)?.tgt;
  assert.equal(find('我爱中国'), 'I love China');
  assert.equal(find('他喜欢音乐'), 'He likes music');
  assert.equal(find('她不喝咖啡'), 'She does not drink coffee');
  assert.equal(find('我们每天喝茶'), 'We drink tea every day');
  assert.equal(find('老师经常读书'), 'The teacher often reads books');
  assert.equal(find('他们想去北京'), 'They want to go to Beijing');
  assert.equal(new Set(all.map((p) => p.src)).size, all.length);
  const dev = new Set(c.dev.map((p) => p.src));
  assert.ok(c.dev.length >= 300);
  assert.ok(c.train.every((p) => !dev.has(p.src)));
  assert.ok(c.train.some((p) => p.src === '我爱中国'));
  assert.deepEqual(builtinParallelCorpus().dev.slice(0, 5), c.dev.slice(0, 5));
});

test('pair files: TSV and JSONL, errors name FILE:LINE', () => {
  assert.deepEqual(parseParallelPairs('我爱中国\tI love China\n\n他喜欢音乐\tHe likes music\n', 'p.tsv').map((p) => [p.src, p.tgt, p.line]),
    [['我爱中国', 'I love China', 1], ['他喜欢音乐', 'He likes music', 3]]);
  assert.throws(() => parseParallelPairs('a\tb\nc\td\te\n', 'p.tsv'), /^Error: p\.tsv:2: expected 2 tab-separated columns \(source, target\), got 3$/);
  assert.throws(() => parseParallelPairs('a\tb\nno tab here\n', 'p.tsv'), /p\.tsv:2: expected 2 tab-separated columns/);
  assert.throws(() => parseParallelPairs('a\tb\n \tx\n', 'p.tsv'), /p\.tsv:2: empty source side/);
  assert.throws(() => parseParallelPairs('a\t\n', 'p.tsv'), /p\.tsv:1: empty target side/);
  assert.throws(() => parseParallelPairs('\n\n', 'p.tsv'), /p\.tsv: no sentence pairs/);
  const j = parseParallelPairs('{"src": "我爱中国", "tgt": "I love China"}\n{"source": "a", "target": "b"}\n', 'p.jsonl');
  assert.deepEqual(j.map((p) => p.tgt), ['I love China', 'b']);
  assert.throws(() => parseParallelPairs('{"src": "a"}\n', 'p.jsonl'), /p\.jsonl:1: missing text field "tgt"/);
  assert.throws(() => parseParallelPairs('{"src": "a", "tgt": "b"}\n{oops\n', 'p.jsonl'), /p\.jsonl:2: not valid JSON/);
  assert.throws(() => parseParallelPairs('{"src": "", "tgt": "b"}\n', 'p.jsonl'), /p\.jsonl:1: empty source side/);
  assert.throws(() => parseParallelPairs('{"src": "a", "tgt": 5}\n', 'p.jsonl'), /^Error: p\.jsonl:1: field tgt: expected a string, got a number$/);
  assert.throws(() => parseParallelPairs('{"source": ["a"], "tgt": "b"}\n', 'p.jsonl'), /p\.jsonl:1: field source: expected a string, got an array/);
  assert.throws(() => parseParallelPairs('{"src": NaN, "tgt": "b"}\n', 'p.jsonl'), /^Error: p\.jsonl:1: not valid JSON \(NaN is not a JSON value\)$/);
});

test('attention rows sum to 1 and ignore padding; a padded batch equals its sentences alone', () => {
  for (const kind of ['additive', 'dot'] as const) {
    const m = tiny(kind).eval();
    noGrad(() => {
      const src = [SV.encode('我爱中国'), SV.encode('我们喝茶'), SV.encode('她去北京'), [4, 5]];
      const enc = m.encode(src);
      assert.deepEqual(enc.memory.shape, [4, 4, 24]);
      const s = m.step([1, 1, 1, 1], enc, enc.state);
      const w = s.weights.data;
      for (let b = 0; b < 4; b++) assert.ok(Math.abs(w.subarray(b * 4, b * 4 + 4).reduce((a, x) => a + x, 0) - 1) < 1e-5);
      assert.equal(w[3 * 4 + 2] + w[3 * 4 + 3], 0); // the 2-token source's padding gets no weight
      const alone = m.encode([[4, 5]]);
      const s1 = m.step([1], alone, alone.state);
      s1.logits.data.forEach((v, i) => assert.ok(Math.abs(v - s.logits.data[3 * TV.size + i]) < 1e-5));
      const tgt = [TV.encode('I love China'), TV.encode('We drink tea'), TV.encode('She goes to Beijing'), TV.encode('He')];
      const batch = m.loss(src, tgt);
      let total = 0, n = 0;
      src.forEach((x, i) => {
        const r = m.loss([x], [tgt[i]]);
        (total += r.loss.item() * r.tokens), (n += r.tokens);
      });
      assert.equal(batch.tokens, n);
      assert.ok(Math.abs(batch.loss.item() - total / n) < 1e-5, kind);
    });
  }
});

test('gradients of the masked loss match finite differences (additive and dot, GRU and LSTM)', () => {
  const src = [SV.encode('我爱中国'), SV.encode('她去北京'), [4]], tgt = [TV.encode('I love China'), TV.encode('She goes'), TV.encode('We')];
  for (const [kind, cell, bi] of [['additive', 'gru', true], ['dot', 'lstm', true], ['dot', 'gru', false]] as const) {
    const m = tiny(kind, cell, bi);
    m.zeroGrad();
    m.loss(src, tgt).loss.backward();
    const named = new Map(m.namedParameters());
    const names = kind === 'additive' ? ['attention.v', 'attention.w_h', 'encoder.weight_hh_l0_reverse', 'bridge.weight'] : bi ? ['attention.w_h', 'encoder.weight_ih_l0', 'decoder.weight_hh_l0'] : ['encoder.weight_ih_l0', 'src_embed.weight'];
    for (const name of names) {
      const p = named.get(name)!;
      assert.ok(p.grad, `${name} has a gradient`);
      for (const i of [0, Math.floor(p.size / 2), p.size - 1]) {
        const at = (d: number): number => {
          const old = p.data[i];
          p.data[i] = old + d;
          const l = noGrad(() => m.loss(src, tgt).loss.item());
          p.data[i] = old;
          return l;
        };
        const num = (at(1e-2) - at(-1e-2)) / 2e-2;
        assert.ok(Math.abs(num - p.grad![i]) < 2e-3 + 0.05 * Math.abs(num), `${kind}/${cell} ${name}[${i}]: ${p.grad![i]} vs ${num}`);
      }
    }
  }
});

test('training on the Trainer: loss falls, greedy and beam translate the training pairs, BLEU 100', async () => {
  const enc = encodePairs(PAIRS, SV, TV, 8);
  const m = tiny('additive');
  const obj = new Seq2seqObjective(enc, enc.slice(0, 3), TV);
  const before = noGrad(() => meanLoss(m, enc, 8));
  const t = new Trainer(m, obj, { maxIters: 120, batchSize: 6, lr: 1e-2, minLr: 1e-3, warmupIters: 5, weightDecay: 0, evalInterval: 120, sampleAt: [] });
  const evals: { dev?: number; metrics?: Record<string, number> }[] = [];
  await t.run({ onEval: (e) => void evals.push(e) });
  assert.ok(evals[0].dev! < before / 10, `dev loss ${evals[0].dev} from ${before}`);
  assert.ok(Math.abs(evals[0].metrics!.BLEU - 100) < 1e-9);
  m.eval();
  const greedy = greedyDecode(m, PAIRS.map((p) => SV.encode(p.src)));
  greedy.forEach((g, i) => assert.equal(TV.decode(g.ids), PAIRS[i].tgt));
  const b1 = beamDecode(m, SV.encode('我爱中国'), 1);
  assert.deepEqual(b1.ids, greedy[0].ids);
  assert.ok(Math.abs(b1.logProb - greedy[0].logProb) < 1e-5);
  const b4 = beamDecode(m, SV.encode('他喜欢音乐'), 4);
  assert.equal(TV.decode(b4.ids), 'He likes music');
  assert.equal(b4.attention.length, b4.ids.length + 1);
  for (const row of [...b4.attention, ...greedy[0].attention]) assert.ok(Math.abs(row.reduce((a, x) => a + x, 0) - 1) < 1e-5);
  assert.equal(greedy[0].attention[0].length, 4);
});

function job(dir: string, data: string, extra: Partial<Seq2seqJob> = {}): Seq2seqJob {
  return {
    data, devFraction: 0.34, srcLevel: 'auto', tgtLevel: 'auto', out: dir, resume: false, quiet: true, bleuSample: 4,
    model: { hidden: 8, embDim: 6, attnDim: 6, blockSize: 8, attention: 'dot', cell: 'gru' },
    train: { maxIters: 20, batchSize: 4, evalInterval: 10, lr: 1e-2 }, ...extra,
  };
}

test('run folder: checkpoint files, resume continues the same trajectory, translate CLI writes the heatmap', async () => {
  const d = tmp(), data = path.join(d, 'pairs.tsv');
  fs.writeFileSync(data, PAIRS.map((p) => `${p.src}\t${p.tgt}`).join('\n') + '\n');
  const quiet = (): void => {};
  const a = path.join(d, 'a'), b = path.join(d, 'b');
  await runSeq2seqTrain(job(a, data), quiet);
  for (const f of ['config.json', 'model.safetensors', 'src_vocab.json', 'tgt_vocab.json', 'optimizer.safetensors', 'trainer_state.json']) {
    assert.ok(fs.existsSync(path.join(a, 'checkpoint', f)), f);
  }
  assert.ok(fs.existsSync(path.join(a, 'best', 'tgt_vocab.json')) && fs.existsSync(path.join(a, 'loss.svg')));
  await runSeq2seqTrain(job(b, data, { train: { maxIters: 10, batchSize: 4, evalInterval: 10, lr: 1e-2 } }), quiet);
  await assert.rejects(runSeq2seqTrain(job(b, data), quiet), /already holds a run/);
  await runSeq2seqTrain(job(b, data, { resume: true, train: { maxIters: 20 } }), quiet);
  const wa = loadSeq2seq(a, true), wb = loadSeq2seq(b, true);
  assert.equal(wb.trainerState!.step, 20);
  for (const [n, p] of wa.model.namedParameters()) assert.deepEqual(wb.model.stateDict().get(n)!.data, p.data, n);

  const svg = path.join(d, 'attn.svg'), lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => lines.push(s) > 0) as unknown as typeof process.stdout.write;
  try {
    assert.equal(await seq2seqCommand(['translate', a, '我爱中国', '--beam', '2', '--attention-svg', svg, '--backend', 'js']), 0);
  } finally {
    process.stdout.write = write;
  }
  const text = fs.readFileSync(svg, 'utf8');
  assert.match(text, /^<svg/);
  assert.match(text, />我</);
  assert.match(lines.join(''), /wrote .*attn\.svg \(attention: \d+ target × 4 source tokens\)/);
  // an existing --attention-svg is kept unless --force; text the source vocabulary lacks is refused, not read as <unk>
  const before = fs.readFileSync(svg, 'utf8');
  fs.writeFileSync(svg, 'mine');
  await assert.rejects(seq2seqCommand(['translate', a, '我爱中国', '--attention-svg', svg, '--backend', 'js']),
    (e: Error) => e instanceof UsageError && /seq2seq translate: --attention-svg .*attn\.svg: exists; choose another name, or overwrite it with --force/.test(e.message));
  assert.equal(fs.readFileSync(svg, 'utf8'), 'mine');
  assert.equal(await seq2seqOut(['translate', a, '我爱中国', '--beam', '2', '--attention-svg', svg, '--force', '--backend', 'js']).then(() => fs.readFileSync(svg, 'utf8')), before);
  await assert.rejects(seq2seqCommand(['translate', a, '我爱日本', '--backend', 'js']),
    (e: Error) => e instanceof UsageError && /the model's source vocabulary \(\d+ characters of its training pairs\) lacks the characters "日", "本"; give text spelt in it/.test(e.message));
  const words = Seq2seqVocab.build(['hello world'], 'word');
  assert.throws(() => checkSourceText('Hello there', words), /lacks the words "Hello", "there" \(its words are case-sensitive: try lower case\)/);
  assert.deepEqual(checkSourceText('hello world', words), words.encode('hello world'));
  // pairs past --max-len are named by that flag
  const notes: string[] = [];
  await runSeq2seqTrain(job(path.join(d, 'short'), data, { model: { hidden: 8, embDim: 6, attnDim: 6, blockSize: 4, attention: 'dot', cell: 'gru' }, train: { maxIters: 1, batchSize: 2, evalInterval: 1, lr: 1e-2 } }), (l) => notes.push(l));
  assert.ok(notes.some((l) => /note: \d+ training pairs longer than --max-len 4 \(source tokens, or target tokens with <eos>\) left out/.test(l)), notes.join('\n'));
  fs.writeFileSync(path.join(d, 'bad.tsv'), 'a\tb\nc\n');
  await assert.rejects(runSeq2seqTrain(job(path.join(d, 'c'), path.join(d, 'bad.tsv')), quiet), /bad\.tsv:2: expected 2 tab-separated columns/);
  await assert.rejects(seq2seqCommand(['translate', path.join(d, 'nope'), 'x']), /no such checkpoint folder/);
  fs.rmSync(d, { recursive: true, force: true });
});

/** stdout of a seq2seq command that prints text (the test runner's own byte writes pass through) */
async function seq2seqOut(argv: string[]): Promise<string> {
  const r = await capturingStdout(() => seq2seqCommand(argv));
  assert.equal(r.result, 0);
  return r.out;
}

test('seq2seq train --help and translate --help each show their own usage and flags', async () => {
  const tr = await seq2seqOut(['translate', '--help']);
  assert.match(tr, /^usage: gptlab seq2seq translate CKPT "TEXT" \[--beam 4\] \[--attention-svg FILE\]/m);
  assert.doesNotMatch(tr, /seq2seq train|--max-iters/);
  assert.match(tr, /--beam <int>/);
  const train = await seq2seqOut(['train', '--help']);
  assert.match(train, /^usage: gptlab seq2seq train /m);
  assert.doesNotMatch(train, /seq2seq translate|--attention-svg/);
  assert.match(await seq2seqOut(['--help']), /gptlab seq2seq train .*\n\s+gptlab seq2seq translate CKPT/);
});

test('heatmapSVG: labelled, escaped cells; ragged input refused', () => {
  const svg = heatmapSVG([[0.75, 0.25], [0, 1]], { rowLabels: ['I', '<eos>'], colLabels: ['我', '&'], title: 't' });
  assert.match(svg, /&lt;eos&gt;/);
  assert.match(svg, />&amp;</);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 4);
  assert.match(svg, />0\.75</);
  assert.throws(() => heatmapSVG([[1, 0], [1]]), /row 1 has 1 values, row 0 has 2/);
  assert.throws(() => heatmapSVG([[1]], { rowLabels: ['a', 'b'] }), /2 row labels for 1 rows/);
});

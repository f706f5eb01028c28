// BERT against transformers (fixtures by scripts/fixtures/make_bert_fixture.py): BertForMaskedLM,
// BertForSequenceClassification and BertForTokenClassification on a right-padded batch with segments —
// logits |Δ| ≤ 2e-5, loss |Δ| ≤ 1e-5, gradients |Δ| ≤ 1e-5 + 1e-3·|g| — on the JS reference and WebAssembly
// backends (and BLAS where installed); the bidirectional attention op against finite differences; padding
// invariance; config validation. Python is not needed to run this.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setBackend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import { initBackend } from '../src/backend/index.node.js';
import { readSafetensors, toFloat32 } from '../src/formats/safetensors.js';
import { Tensor, Rng, noGrad } from '../src/tensor/index.js';
import { bidirectionalAttention } from '../src/tensor/attention-bidir.js';
import { BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, type BertTaskModel } from '../src/models/bert-heads.js';
import { BERT_PRESETS, bertConfigFromHF, validateBertConfig } from '../src/models/bert-config.js';
import { gradcheck } from './helpers/gradcheck.js';

interface Fixture {
  cfg: Record<string, unknown>;
  hf: Record<string, unknown>;
  params: Map<string, { shape: number[]; data: Float32Array }>;
  grads: Map<string, Float32Array>;
  ids: Int32Array;
  mask: Int32Array;
  types: Int32Array;
  labels: Int32Array;
  logits: Float32Array;
  loss: number;
}

function load(name: string): Fixture {
  const f = readSafetensors(new Uint8Array(fs.readFileSync(new URL(`../../test/fixtures/bert/${name}.safetensors`, import.meta.url))), name);
  const params = new Map<string, { shape: number[]; data: Float32Array }>();
  const grads = new Map<string, Float32Array>();
  for (const [k, e] of f.tensors) {
    if (k.startsWith('param.')) params.set(k.slice(6), { shape: e.shape, data: toFloat32(e) });
    if (k.startsWith('grad.')) grads.set(k.slice(5), toFloat32(e));
  }
  const i32 = (k: string): Int32Array => f.tensors.get(k)!.data as Int32Array;
  return {
    cfg: JSON.parse(f.metadata.config), hf: JSON.parse(f.metadata.hf_config), params, grads,
    ids: i32('input_ids'), mask: i32('attention_mask'), types: i32('token_type_ids'), labels: i32('labels'),
    logits: toFloat32(f.tensors.get('logits')!), loss: Number(f.metadata.loss),
  };
}

const MAKERS: Record<string, (cfg: never) => BertTaskModel> = {
  mlm: (c) => new BertForMaskedLM(c),
  seq: (c) => new BertForSequenceClassification(c),
  token: (c) => new BertForTokenClassification(c),
};

function build(name: string, fx: Fixture): BertTaskModel {
  const m = MAKERS[name](fx.cfg as never);
  m.loadStateDict(fx.params, 'fixture');
  return m;
}

function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): number {
  assert.equal(got.length, want.length, `${name}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    worst = Math.max(worst, d);
    if (!(d <= atol + rtol * Math.abs(want[i]))) assert.fail(`${name}[${i}]: got ${got[i]}, transformers ${want[i]} (|Δ| ${d.toExponential(2)})`);
  }
  return worst;
}

const blasMissing = (await import('../src/backend/blas.node.js')).blasUnavailableReason();

for (const backend of ['js', 'wasm', 'blas'] as const) {
  for (const name of ['mlm', 'seq', 'token']) {
    const skip = backend === 'blas' && blasMissing !== null ? blasMissing.split('\n')[0] : false;
    test(`BERT ${name} matches transformers on ${backend}`, { skip }, async () => {
      await initBackend({ backend, threads: 1 });
      const fx = load(name);
      const model = build(name, fx);
      const { logits, loss } = model.run({ ids: fx.ids, B: 3, T: 8, attentionMask: fx.mask, tokenTypeIds: fx.types }, fx.labels);
      const dl = close('logits', logits.data, fx.logits, 2e-5, 0);
      assert.ok(Math.abs(loss!.item() - fx.loss) <= 1e-5, `loss ${loss!.item()} vs transformers ${fx.loss}`);
      loss!.backward();
      let dg = 0;
      for (const [n, p] of model.namedParameters()) {
        const want = fx.grads.get(n);
        assert.ok(want, `fixture has no gradient for ${n}`);
        dg = Math.max(dg, close(`grad ${n}`, p.grad!, want, 1e-5, 1e-3));
      }
      assert.equal(model.namedParameters().length, fx.grads.size);
      console.log(`# ${name} ${backend}: max |Δ| logits ${dl.toExponential(2)}, loss ${Math.abs(loss!.item() - fx.loss).toExponential(2)}, gradients ${dg.toExponential(2)}`);
    });
  }
}

test('bidirectional attention with a key mask and dropout against finite differences', () => {
  setBackend(new JsBackend());
  const rng = new Rng(3);
  const r = (...s: number[]): Tensor => Tensor.randn(s, rng);
  const mask = [1, 1, 1, 0, 1, 1, 0, 0];
  gradcheck('bidir', (q, k, v) => bidirectionalAttention(q, k, v, { keyMask: mask }), [r(2, 2, 4, 3), r(2, 2, 4, 3), r(2, 2, 4, 3)]);
  gradcheck('bidir cross', (q, k, v) => bidirectionalAttention(q, k, v), [r(1, 2, 3, 2), r(1, 2, 5, 2), r(1, 2, 5, 2)]);
  // dropout: the same mask each call (a fresh rng with one seed), so finite differences see one function
  gradcheck('bidir dropout', (q, k, v) => bidirectionalAttention(q, k, v, { keyMask: mask, dropout: 0.3, training: true, rng: new Rng(9) }),
    [r(2, 1, 4, 2), r(2, 1, 4, 2), r(2, 1, 4, 2)]);
  // a masked key gets probability 0: its value never reaches the output
  const q = r(1, 1, 2, 2), k = r(1, 1, 2, 2), v = Tensor.from([1, 2, 1e6, 1e6], [1, 1, 2, 2]);
  assert.deepEqual(bidirectionalAttention(q, k, v, { keyMask: [1, 0] }).toArray(), [1, 2, 1, 2]);
  assert.throws(() => bidirectionalAttention(q, k, v, { keyMask: [1] }), /keyMask has 1 entries/);
});

test('padding changes nothing for the real tokens; segments and the mask are validated', async () => {
  await initBackend({ backend: 'js' });
  const fx = load('seq');
  const m = build('seq', fx).eval();
  const short = noGrad(() => m.run({ ids: fx.ids.slice(16, 20), B: 1, T: 4, tokenTypeIds: fx.types.slice(16, 20) }).logits.data);
  close('row 2 alone', short, fx.logits.subarray(6, 9), 2e-5, 0);
  assert.throws(() => m.run({ ids: fx.ids, B: 3, T: 8, tokenTypeIds: new Int32Array(24).fill(2) }), /tokenTypeIds\[0\] = 2 is outside \[0, 2\)/);
  assert.throws(() => m.run({ ids: fx.ids, B: 3, T: 8, attentionMask: [1] }), /attentionMask has 1 entries, expected 24/);
  assert.throws(() => m.run({ ids: new Int32Array(26), B: 2, T: 13 }), /longer than the 12 positions/);
  assert.throws(() => m.createState(), /encoder/);
});

test('config: validation names the field; transformers config.json maps onto ours; presets build', () => {
  const fx = load('mlm');
  const c = bertConfigFromHF(fx.hf);
  assert.deepEqual({ ...c, dropout: 0, attentionDropout: 0 }, fx.cfg);
  assert.throws(() => validateBertConfig({ ...fx.cfg, nHead: 3 }), /nEmbd \(16\) must be divisible by nHead \(3\) \(flags --n-embd, --n-head\)/);
  assert.throws(() => validateBertConfig({ ...fx.cfg, dropout: 1 }), /dropout must be a number in \[0, 1\)/);
  assert.throws(() => bertConfigFromHF({ ...fx.hf, hidden_act: 'relu' }), /hidden_act "relu" is not supported/);
  assert.throws(() => new BertForSequenceClassification({ ...fx.cfg, labels: [] } as never), /labels must be a non-empty array/);
  // a transformers state_dict() also holds the tied decoder (weight and bias): accepted and dropped
  const mlm = load('mlm');
  const withTied = new Map(mlm.params);
  withTied.set('cls.predictions.decoder.weight', mlm.params.get('bert.embeddings.word_embeddings.weight')!);
  withTied.set('cls.predictions.decoder.bias', mlm.params.get('cls.predictions.bias')!);
  new BertForMaskedLM(mlm.cfg as never).loadStateDict(withTied, 'hf');
  assert.throws(() => new BertForMaskedLM(mlm.cfg as never).loadStateDict(new Map([...withTied, ['cls.seq_relationship.weight', mlm.params.get('cls.predictions.bias')!]]), 'hf'), /hf: unexpected tensor "cls\.seq_relationship\.weight"/);
  const tiny = new BertForMaskedLM({ ...BERT_PRESETS.tiny, vocabSize: 50 });
  assert.ok(tiny.describe().startsWith('BERT (bert): 2 layers'));
  assert.ok(!tiny.decayedParameterNames().has('bert.embeddings.word_embeddings.weight'));
  assert.ok(tiny.decayedParameterNames().has('bert.encoder.layer.0.attention.self.query.weight'));
});

test('MLM pretraining job on a small text, resumable; fill-mask lists candidates', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { runMlmJob } = await import('../src/train/mlm-job.node.js');
  const { fillMask } = await import('../src/cli/fill-mask.js');
  const { loadCheckpoint } = await import('../src/train/checkpoint.node.js');
  const { packSequences } = await import('../src/train/mlm.js');
  const { WordPieceTokenizer } = await import('../src/tokenizers/wordpiece.js');
  await initBackend({ backend: 'wasm', threads: 1 });
  const text = Array.from({ length: 200 }, (_, i) => `the ${['cat', 'dog', 'bird'][i % 3]} sat on the ${['mat', 'log', 'branch'][i % 3]} .`).join('\n');
  const tok = WordPieceTokenizer.train(text, 60);
  const seqs = packSequences(text, tok, 16);
  assert.ok(seqs.every((s) => s.length <= 16 && s[0] === tok.tokenToId('[CLS]') && s[s.length - 1] === tok.tokenToId('[SEP]')));
  assert.throws(() => packSequences(text, tok, 2), /^Error: mlm: --block-size 2 leaves no room between \[CLS\] and \[SEP\] \(use at least 3\)$/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-mlm-'));
  const lines: string[] = [];
  const job = { text, source: 'test', out: dir, vocabSize: 60, devFraction: 0.1, wholeWord: true, maskProb: 0.15, resume: false, quiet: true, overrides: { nLayer: 1, nEmbd: 32, intermediateSize: 64, blockSize: 32 } };
  const r = await runMlmJob({ ...job, train: { maxIters: 20, evalInterval: 10, evalIters: 2 } }, (l) => lines.push(l));
  assert.equal(r.steps, 20);
  assert.ok(lines.some((l) => /masked acc [\d.]+, unigram acc [\d.]+/.test(l)), lines.join('\n'));
  const more = await runMlmJob({ ...job, resume: true, train: { maxIters: 30 } }, (l) => lines.push(l));
  assert.equal(more.steps, 10);
  assert.ok(lines.some((l) => /^resuming .*checkpoint at step 20$/.test(l)), lines.join('\n'));
  const ck = loadCheckpoint(dir);
  const fills = fillMask(ck.model as BertForMaskedLM, ck.tokenizer as InstanceType<typeof WordPieceTokenizer>, 'the cat sat on the [MASK] .', 3);
  assert.equal(fills.length, 1);
  assert.equal(fills[0].position, 6);
  assert.equal(fills[0].candidates.length, 3);
  assert.ok(fills[0].candidates[0].prob >= fills[0].candidates[2].prob);
  assert.throws(() => fillMask(ck.model as BertForMaskedLM, ck.tokenizer as InstanceType<typeof WordPieceTokenizer>, 'no mask here'), /has no \[MASK\]/);
  // the command fills every text given; a text without [MASK] is refused before loading
  const { fillMaskCommand } = await import('../src/cli/fill-mask.js');
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    await fillMaskCommand([dir, 'the cat sat on the [MASK] .', 'the [MASK] sat on the log .', '--top-k', '2', '--backend', 'wasm', '--threads', '1']);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(out.match(/^\[MASK\] at piece \d+:$/gm)?.length, 2, out);
  assert.match(out, /^the cat sat on the \[MASK\] \.\n\[MASK\] at piece 6:\n(  .+\n){2}\nthe \[MASK\] sat on the log \.\n\[MASK\] at piece 2:\n/);
  await assert.rejects(fillMaskCommand([dir, 'a [MASK]', 'no mask']), /fill-mask: text 2 \("no mask"\) has no \[MASK\]/);
  fs.rmSync(dir, { recursive: true, force: true });
});

// Generation: the KV cache changes nothing (greedy and seeded sampling), a left-padded batch gives each row
// what it gets alone (logits and tokens), and beam search follows Hugging Face's scorer (num_beams 1 is
// greedy, scores are the sequences' real log-probabilities, the worked example in beam.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureBackend } from '../src/backend/index.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import type { LanguageModel } from '../src/models/model.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { noGrad } from '../src/tensor/tensor.js';
import { generateTokens, generateIds, type FinishReason, type TokenGenOptions } from '../src/generate/generate.js';
import { generateBatch, padCompletions } from '../src/generate/batch.js';
import { tokenLogprob } from '../src/generate/decoder.js';
import { beamSearch } from '../src/generate/beam.js';

ensureBackend();
const tok = CharTokenizer.fromText('the quick brown fox jumps over the lazy dog.\n');
const cfg: GPTConfig = { vocabSize: tok.vocabSize, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };
const DOT = tok.encode('.')[0];

/** a random model with sharper-than-init logits, so that generation is not a coin toss among near-ties */
function model(seed = 7): GPT {
  const m = new GPT(cfg, seed);
  for (const p of m.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] *= 8;
  return m;
}

function run(m: GPT, prompt: number[], opts: TokenGenOptions): { ids: number[]; logprobs: number[]; reason: FinishReason } {
  const ids: number[] = [], logprobs: number[] = [];
  const gen = generateTokens(m, prompt, opts);
  for (;;) {
    const r = gen.next();
    if (r.done) return { ids, logprobs, reason: r.value };
    ids.push(r.value.id);
    logprobs.push(r.value.logprob);
  }
}

/** sum of log p(ids[i] | prompt, ids[<i]) by one uncached forward */
function sequenceLogprob(m: GPT, prompt: number[], ids: number[]): number {
  const all = [...prompt, ...ids];
  const V = cfg.vocabSize;
  const logits = noGrad(() => m.forward(Int32Array.from(all), 1, all.length).logits).data; // (1, T, V)
  let s = 0;
  for (let i = 0; i < ids.length; i++) {
    const row = logits.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
    let mx = -Infinity;
    for (const x of row) mx = Math.max(mx, x);
    let z = 0;
    for (const x of row) z += Math.exp(x - mx);
    s += row[ids[i]] - mx - Math.log(z);
  }
  return s;
}

const prompts = ['the', 'quick brown', 'a', 'over the lazy do'].map((s) => tok.encode(s));

test('KV cache on and off give the same tokens: greedy and seeded sampling, past the block size', () => {
  const m = model();
  const p = tok.encode('the quick');
  for (const opts of [{ temperature: 0 }, { temperature: 0.9, topK: 12, topP: 0.95, repetitionPenalty: 1.2, seed: 11 }]) {
    const a = run(m, p, { ...opts, maxNewTokens: 40, useCache: true });
    const b = run(m, p, { ...opts, maxNewTokens: 40, useCache: false });
    assert.equal(a.ids.length, 40);
    assert.deepEqual(a.ids, b.ids, JSON.stringify(opts));
  }
});

test('past the block size the window slides by half a block: one prefill per C/2 tokens, cache or not', () => {
  const m = model();
  const p = tok.encode('the quick'); // 9 tokens, C = 32, a slide keeps 16
  for (const useCache of [true, false]) {
    const Ts: number[] = [];
    const spy = Object.create(m) as GPT;
    spy.forward = (idx, B, T, o) => {
      Ts.push(T);
      return m.forward(idx, B, T, o);
    };
    const out = run(spy, p, { temperature: 0, maxNewTokens: 60, useCache });
    assert.equal(out.ids.length, 60);
    assert.ok(Math.max(...Ts) <= 32);
    // windows: n = 9..32 from 0; n = 33 → 17 (16 tokens); n = 50 → 34; n = 67 → 51
    if (useCache) assert.deepEqual(Ts.filter((T) => T > 1), [9, 16, 16, 16]);
    else {
      const ctxLen = (k: number): number => { // the no-cache path re-reads the same window every step
        const n = 9 + k;
        return n <= 32 ? n : n - [17, 34, 51].filter((w) => n >= w + 16).pop()!;
      };
      assert.deepEqual(Ts, Array.from({ length: 60 }, (_, k) => ctxLen(k)));
    }
  }
});

test('left-padded batch forward: each row\'s logits match running it alone (1e-5)', () => {
  const m = model();
  m.eval();
  const V = cfg.vocabSize;
  const T = Math.max(...prompts.map((p) => p.length));
  const padding = Int32Array.from(prompts, (p) => T - p.length);
  const idx = new Int32Array(prompts.length * T).fill(5); // pad id: anything, it is masked
  prompts.forEach((p, b) => idx.set(p, b * T + padding[b]));
  const batch = noGrad(() => m.forward(idx, prompts.length, T, { padding }).logits).data; // (B, T, V)
  prompts.forEach((p, b) => {
    const alone = noGrad(() => m.forward(Int32Array.from(p), 1, p.length).logits).data; // (1, t, V)
    for (let t = 0; t < p.length; t++) {
      for (let v = 0; v < V; v++) {
        const x = batch[(b * T + padding[b] + t) * V + v], y = alone[t * V + v];
        assert.ok(Math.abs(x - y) < 1e-5, `row ${b} pos ${t} id ${v}: ${x} vs ${y}`);
      }
    }
  });
});

test('generateBatch: every row equals generateIds alone with seed + row (greedy and seeded sampling)', () => {
  const m = model();
  for (const opts of [{ temperature: 0 }, { temperature: 1.1, topK: 10, repetitionPenalty: 1.3, seed: 5 }, { temperature: 0.9, presencePenalty: 1, frequencyPenalty: 0.5, logitBias: { [DOT]: 2 }, seed: 8 }]) {
    const rows = [{ maxNewTokens: 5 }, {}, { stopTokens: [DOT] }, { maxNewTokens: 3, stopTokens: [] }];
    const streamed: number[][] = prompts.map(() => []);
    const out = generateBatch(m, prompts, { ...opts, maxNewTokens: 12, stopTokens: [tok.encode(' ')[0]], rows, onToken: (r, id) => streamed[r].push(id) });
    prompts.forEach((p, i) => {
      const alone = run(m, p, {
        ...opts, seed: (opts.seed ?? 1337) + i, maxNewTokens: rows[i].maxNewTokens ?? 12, stopTokens: rows[i].stopTokens ?? [tok.encode(' ')[0]],
      });
      assert.deepEqual(out[i].ids, alone.ids, `row ${i} ${JSON.stringify(opts)}`);
      assert.equal(out[i].finishReason, alone.reason, `row ${i}`);
      assert.equal(out[i].contextFull, false);
      assert.deepEqual(streamed[i], out[i].ids);
    });
  }
});

test('generateBatch: a row out of context finishes with length + contextFull; bad prompts are refused', () => {
  const m = model();
  const long = tok.encode('the quick brown fox jumps over');  // 30 of 32 positions
  const out = generateBatch(m, [long, tok.encode('the')], { maxNewTokens: 10, temperature: 0 });
  for (const [i, p] of [long, tok.encode('the')].entries()) {
    // both rows share the long row's context: 32 − 30 + 1 = 3 tokens fit
    assert.equal(out[i].ids.length, 3);
    assert.equal(out[i].finishReason, 'length');
    assert.equal(out[i].contextFull, true);
    assert.deepEqual(out[i].ids, run(m, p, { maxNewTokens: 3, temperature: 0 }).ids);
  }
  // once the long row has stopped, its pad columns go and the short row gets the room back
  const freed = generateBatch(m, [long, tok.encode('the')], { maxNewTokens: 10, temperature: 0, rows: [{ maxNewTokens: 1 }, {}] });
  assert.equal(freed[1].ids.length, 10);
  assert.equal(freed[1].contextFull, false);
  assert.deepEqual(freed[1].ids, run(m, tok.encode('the'), { maxNewTokens: 10, temperature: 0 }).ids);
  assert.deepEqual(generateBatch(m, [tok.encode('a')], { maxNewTokens: 0 }), [{ ids: [], logprobs: [], finishReason: 'length', contextFull: false }]);
  assert.throws(() => generateBatch(m, [[]], { maxNewTokens: 2 }), /prompt 0 is empty/);
  assert.throws(() => generateBatch(m, [new Array(33).fill(1)], { maxNewTokens: 2 }), /more than the block size 32/);
});

test('beam search with one beam is greedy search (with and without a stop token)', () => {
  const m = model();
  const p = tok.encode('the quick');
  const greedy = run(m, p, { temperature: 0, maxNewTokens: 15 }).ids;
  const beam = beamSearch(m, p, { numBeams: 1, maxNewTokens: 15 });
  assert.deepEqual(beam.sequences[0].ids, greedy);
  assert.equal(beam.finishReason, 'length');
  // stop at a token greedy does produce
  const stop = greedy[4];
  const g2 = run(m, p, { temperature: 0, maxNewTokens: 15, stopTokens: [stop] });
  const b2 = beamSearch(m, p, { numBeams: 1, maxNewTokens: 15, stopTokens: [stop] });
  assert.equal(g2.reason, 'stop');
  assert.deepEqual(b2.sequences[0].ids, g2.ids);
  assert.equal(b2.finishReason, 'stop');
  assert.equal(b2.sequences[0].finished, true);
});

test('beam search: sorted sequences, real log-probabilities, at least as good as greedy, deterministic', () => {
  const m = model();
  const p = tok.encode('over the');
  const opts = { numBeams: 4, maxNewTokens: 12, numReturnSequences: 3, lengthPenalty: 0, earlyStopping: false } as const;
  const r = beamSearch(m, p, opts);
  assert.equal(r.sequences.length, 3);
  for (let i = 1; i < 3; i++) assert.ok(r.sequences[i - 1].score >= r.sequences[i].score);
  for (const s of r.sequences) {
    assert.equal(s.ids.length, 12);
    // the cache was reordered correctly iff the scores are the sequences' true log-probabilities
    assert.ok(Math.abs(s.logprob - sequenceLogprob(m, p, s.ids)) < 1e-3, `${s.logprob} vs ${sequenceLogprob(m, p, s.ids)}`);
    assert.ok(Math.abs(s.score - s.logprob) < 1e-12); // length penalty 0
  }
  const greedy = run(m, p, { temperature: 0, maxNewTokens: 12 }).ids;
  assert.ok(r.sequences[0].score >= sequenceLogprob(m, p, greedy) - 1e-4);
  assert.deepEqual(beamSearch(m, p, opts), r);
  // with a length penalty and a stop id the scores are logprob / length^penalty, still best first
  const r2 = beamSearch(m, p, { numBeams: 3, maxNewTokens: 20, numReturnSequences: 3, lengthPenalty: 1.5, stopTokens: [DOT, tok.encode(' ')[0]] });
  for (const s of r2.sequences) assert.ok(Math.abs(s.score - s.logprob / s.ids.length ** 1.5) < 1e-9);
  for (let i = 1; i < r2.sequences.length; i++) assert.ok(r2.sequences[i - 1].score >= r2.sequences[i].score);
});

test('beam search: no_repeat_ngram_size, block size limit, bad options', () => {
  const m = model();
  const p = tok.encode('the the');
  const r = beamSearch(m, p, { numBeams: 3, maxNewTokens: 20, numReturnSequences: 3, noRepeatNgramSize: 2 });
  for (const s of r.sequences) {
    const all = [...p, ...s.ids];
    // the prompt may repeat itself ('th' twice); no bigram ending in the output may occur earlier
    for (let i = p.length - 1; i + 1 < all.length; i++) {
      for (let j = 0; j < i; j++) assert.ok(all[j] !== all[i] || all[j + 1] !== all[i + 1], `bigram at ${i} repeats ${j} in ${all}`);
    }
  }
  const long = tok.encode('the quick brown fox jumps');  // 25 tokens: room for 32 − 25 + 1 = 8
  const c = beamSearch(m, long, { numBeams: 2, maxNewTokens: 50 });
  assert.equal(c.sequences[0].ids.length, 8);
  assert.equal(c.finishReason, 'length');
  assert.equal(c.contextFull, true);
  assert.throws(() => beamSearch(m, p, { numBeams: 2, maxNewTokens: 5, numReturnSequences: 3 }), /numReturnSequences/);
  assert.throws(() => beamSearch(m, new Array(33).fill(1), { numBeams: 2, maxNewTokens: 5 }), /block size/);
});

test('beam search: the worked example of beam.ts, on a scripted model', () => {
  // ids: A 0, B 1, E 2 (stop), Z 3 (the rest of the mass), P 4 (the prompt); log-probs by the last token fed
  const next: Record<number, number[]> = {
    4: [-0.5, -1.2, -3.0, Math.log(1 - Math.exp(-0.5) - Math.exp(-1.2) - Math.exp(-3.0)), -1e4],
    0: [-1.6, -3.0, -0.3, Math.log(1 - Math.exp(-1.6) - Math.exp(-3.0) - Math.exp(-0.3)), -1e4],
    1: [-0.1, -2.5, -5.0, Math.log(1 - Math.exp(-0.1) - Math.exp(-2.5) - Math.exp(-5.0)), -1e4],
  };
  const fake = {
    config: { ...cfg, vocabSize: 5 },
    contextLength: cfg.blockSize,
    createState: () => ({ length: 0, selectRows() {}, dropPrefix() {} }),
    training: false,
    eval() {},
    train() {},
    forward(idx: Int32Array, B: number, T: number) {
      const data = new Float32Array(B * 5);
      for (let b = 0; b < B; b++) data.set(next[idx[b * T + T - 1]], b * 5);
      return { logits: { data, shape: [B, 1, 5] } };
    },
  } as unknown as LanguageModel;
  const r = beamSearch(fake, [4], { numBeams: 2, maxNewTokens: 2, numReturnSequences: 2, stopTokens: [2] });
  assert.deepEqual(r.sequences.map((s) => s.ids), [[0, 2], [1, 0]]);
  assert.ok(Math.abs(r.sequences[0].score - -0.4) < 1e-6 && Math.abs(r.sequences[1].score - -0.65) < 1e-6);
  assert.deepEqual(r.sequences.map((s) => s.finished), [true, false]);
  assert.equal(r.finishReason, 'length');
  // early stopping true: done as soon as numBeams hypotheses are finished
  const e = beamSearch(fake, [4], { numBeams: 1, maxNewTokens: 5, stopTokens: [2], earlyStopping: true });
  assert.equal(e.finishReason, 'stop');
  assert.deepEqual(e.sequences[0].ids, [0, 2]);
});

test('the generation core returns per-token log-probabilities and a completion mask for every path', () => {
  const m = model();
  const prompts = [tok.encode('the quick'), tok.encode('a')];
  const rows = generateBatch(m, prompts, { maxNewTokens: 5, temperature: 0.9, seed: 3, rows: [{}, { maxNewTokens: 2 }] });
  // each log-probability is log softmax of a full forward over prompt + ids so far, at the chosen id
  rows.forEach((r, i) => {
    r.ids.forEach((id, t) => {
      const ctx = [...prompts[i], ...r.ids.slice(0, t)];
      const logits = m.forward(Int32Array.from(ctx), 1, ctx.length, { lastOnly: true }).logits.data;
      assert.ok(Math.abs(r.logprobs[t] - tokenLogprob(logits, id)) < 1e-4, `row ${i} token ${t}`);
    });
  });
  const pad = padCompletions(rows);
  assert.equal(pad.L, 5);
  assert.deepEqual(Array.from(pad.mask), [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  // the single-sequence path agrees with the batch path
  const solo = run(m, prompts[1], { maxNewTokens: 2, temperature: 0.9, seed: 4 });
  assert.deepEqual(solo.ids, rows[1].ids);
  assert.ok(solo.logprobs.every((lp, t) => Math.abs(lp - rows[1].logprobs[t]) < 1e-5));
  // per-token losses (reduction 'none') are −log p of the targets
  const ids = Int32Array.from(prompts[0]);
  const nll = m.forward(ids.subarray(0, -1), 1, ids.length - 1, { targets: ids.subarray(1), reduction: 'none' }).loss!;
  assert.deepEqual(nll.shape, [1, ids.length - 1]);
  const mean = m.forward(ids.subarray(0, -1), 1, ids.length - 1, { targets: ids.subarray(1) }).loss!.item();
  assert.ok(Math.abs(nll.data.reduce((a, b) => a + b, 0) / nll.size - mean) < 1e-5);
});

// Decoding a Seq2seq model (src/models/seq2seq.ts): greedy (a batch of sources at once) and beam search
// (one source, `beam` hypotheses), each returning the target ids and the attention matrix of the
// translation — row i holds step i's weights over the source tokens and sums to 1. Runs without gradients.
//   const [t] = greedyDecode(model, [vocabSrc.encode('我爱中国')]);
//   vocabTgt.decode(t.ids)                  // 'i love china'
//   t.attention                             // (t.ids.length + 1 incl. <eos>) rows × 4 columns
import { noGrad } from '../tensor/tensor.js';
import { logSoftmax } from '../tensor/nnops.js';
import { gather, reshape } from '../tensor/shape.js';
import type { Encoded, Seq2seq } from './seq2seq.js';
import { BOS, EOS } from './seq2seq-vocab.js';

export interface Translation {
  /** target ids without <bos>/<eos> */
  ids: number[];
  /** one row per produced token (the final <eos> included), one column per source token; rows sum to 1 */
  attention: number[][];
  /** total log-probability (nats) of ids followed by <eos> (or of ids alone when cut off at maxLen) */
  logProb: number;
}

/** row b of a (B, S) weight tensor, cut to the source length */
function weightRow(w: Float32Array, b: number, S: number, len: number): number[] {
  return Array.from(w.subarray(b * S, b * S + len));
}

/**
 * Greedy decoding of a batch of sources (id lists without specials): at each step the most probable token,
 * until <eos> or maxLen tokens (default the model's blockSize).
 */
export function greedyDecode(model: Seq2seq, src: readonly (readonly number[])[], maxLen = model.config.blockSize): Translation[] {
  return noGrad(() => {
    const enc = model.encode(src);
    const B = src.length, V = model.config.vocabSize, S = enc.memory.shape[1];
    const out: Translation[] = src.map(() => ({ ids: [], attention: [], logProb: 0 }));
    const done = new Array<boolean>(B).fill(false);
    let prev = new Array<number>(B).fill(BOS), state = enc.state;
    for (let i = 0; i < maxLen && done.some((d) => !d); i++) {
      const s = model.step(prev, enc, state);
      const lp = logSoftmax(s.logits).data;
      state = s.state;
      prev = prev.map((_, b) => {
        if (done[b]) return EOS;
        let best = 0;
        for (let v = 1; v < V; v++) if (lp[b * V + v] > lp[b * V + best]) best = v;
        out[b].attention.push(weightRow(s.weights.data, b, S, enc.lengths[b]));
        out[b].logProb += lp[b * V + best];
        if (best === EOS) done[b] = true;
        else out[b].ids.push(best);
        return best;
      });
    }
    return out;
  });
}

interface Hypothesis {
  ids: number[];
  attention: number[][];
  logProb: number;
}

/** the encoder output repeated k times along the batch (one row per beam) */
function repeatEncoded(enc: Encoded, k: number): Encoded {
  const [, S, M] = enc.memory.shape, A = enc.keys.shape[2], rows = new Array<number>(k).fill(0);
  return {
    memory: reshape(gather(reshape(enc.memory, [1, S * M]), rows, [k]), [k, S, M]),
    keys: reshape(gather(reshape(enc.keys, [1, S * A]), rows, [k]), [k, S, A]),
    mask: gather(enc.mask, rows, [k]),
    state: enc.state,
    lengths: rows.map(() => enc.lengths[0]),
  };
}

/**
 * Beam search for one source: keeps the `beam` best partial translations by total log-probability; a
 * hypothesis ends at <eos>. Returns the finished one with the best length-normalised score logProb / len^α
 * (len counts <eos>; α = lengthPenalty, default 1; Wu et al. 2016 use a smoother form). With beam 1 this is
 * greedy decoding.
 */
export function beamDecode(model: Seq2seq, src: readonly number[], beam = 4, maxLen = model.config.blockSize, lengthPenalty = 1): Translation {
  if (!Number.isInteger(beam) || beam < 1) throw new Error(`beam must be a whole number ≥ 1, got ${beam}`);
  return noGrad(() => {
    const enc1 = model.encode([src]), V = model.config.vocabSize, S = src.length;
    let live: Hypothesis[] = [{ ids: [], attention: [], logProb: 0 }];
    let state = enc1.state, enc = enc1;
    const finished: Hypothesis[] = [];
    for (let i = 0; i < maxLen && live.length; i++) {
      if (enc.memory.shape[0] !== live.length) enc = repeatEncoded(enc1, live.length);
      const s = model.step(live.map((h) => (h.ids.length ? h.ids[h.ids.length - 1] : BOS)), enc, state);
      const lp = logSoftmax(s.logits).data;
      const cands: { from: number; tok: number; score: number }[] = [];
      live.forEach((h, r) => {
        for (let v = 0; v < V; v++) cands.push({ from: r, tok: v, score: h.logProb + lp[r * V + v] });
      });
      cands.sort((a, b) => b.score - a.score);
      const next: Hypothesis[] = [], rows: number[] = [];
      for (const c of cands.slice(0, beam)) {
        const h = live[c.from], att = [...h.attention, weightRow(s.weights.data, c.from, enc.memory.shape[1], S)];
        if (c.tok === EOS) finished.push({ ids: h.ids, attention: att, logProb: c.score });
        else next.push({ ids: [...h.ids, c.tok], attention: att, logProb: c.score }), rows.push(c.from);
      }
      live = next;
      if (live.length) state = model.selectState(s.state, rows);
      // stop with `beam` finished hypotheses, or once the best finished one outscores every live one (a live
      // hypothesis's log-probability only falls as it grows)
      const bestDone = Math.max(-Infinity, ...finished.map((f) => f.logProb));
      if (finished.length >= beam || live.every((h) => h.logProb < bestDone)) break;
    }
    const pool = finished.length ? finished : live;
    const norm = (h: Hypothesis): number => h.logProb / Math.pow(h.ids.length + 1, lengthPenalty);
    const best = pool.reduce((a, b) => (norm(b) > norm(a) ? b : a));
    return { ids: best.ids, attention: best.attention, logProb: best.logProb };
  });
}

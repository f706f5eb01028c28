// Supervised fine-tuning on chat data: each conversation is rendered with the chat template and the loss
// is taken on the assistant's tokens only (and the end-of-turn token that closes each reply, so the model
// learns to stop). Batches are whole conversations, padded to the longest in the batch. Browser-safe.
import { GPT } from '../models/gpt.js';
import { CharTokenizer } from '../tokenizers/char.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplate, SPECIAL_TOKENS, type Conversation } from '../data/chat.js';
import type { ChatMessage } from '../data/chat.js';
import { AdamW } from '../optim/adamw.js';
import { cosineLr } from '../optim/schedule.js';
import { Rng } from '../tensor/rng.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import { stepScope } from '../tensor/storage.js';
import { optimizationStep } from './step.js';
import { generateText, tick } from '../generate/generate.js';
import { promptMessages, scoreAnswer, type SftExample } from '../data/sft-default.js';

/**
 * Makes sure the tokenizer has one id for each chat special token (and, for a character vocabulary, every
 * character of `text`), growing the model's embedding to match. Existing tokens keep their learned rows;
 * new rows start as N(0, 0.02) like a fresh embedding.
 */
export function withChatVocabulary(model: GPT, tok: Tokenizer, text: string): { model: GPT; tokenizer: Tokenizer; added: string[] } {
  const missingSpecial = SPECIAL_TOKENS.filter((s) => !tok.specialTokens.has(s));
  let missingChars: string[] = [];
  if (tok instanceof CharTokenizer) {
    const have = new Set(tok.chars);
    missingChars = [...new Set(text)].filter((c) => !have.has(c)).sort();
  }
  if (!missingSpecial.length && !missingChars.length) return { model, tokenizer: tok, added: [] };
  if (!(tok instanceof CharTokenizer)) {
    throw new Error(
      `the checkpoint's ${tok.type} tokenizer lacks the chat special tokens ${missingSpecial.join(' ')}; ` +
        'train its tokenizer with them (gptlab tokenizer train … ) or start from a character-level checkpoint',
    );
  }
  const chars = [...tok.chars, ...missingChars];
  const specials: Record<string, number> = {};
  const allSpecial = [...tok.specialTokens.keys(), ...missingSpecial];
  allSpecial.forEach((s, i) => (specials[s] = chars.length + i));
  const newTok = new CharTokenizer(chars, specials);
  const cfg = { ...model.config, vocabSize: newTok.vocabSize };
  const grown = new GPT(cfg, 4242);
  const old = model.stateDict();
  const rng = new Rng(4243);
  for (const [name, p] of grown.namedParameters()) {
    const src = old.get(name)!;
    if (name !== 'transformer.wte.weight') {
      p.data.set(src.data);
      continue;
    }
    const C = cfg.nEmbd;
    for (let id = 0; id < newTok.vocabSize; id++) {
      const token = newTok.idToToken(id);
      let oldId = -1;
      try {
        oldId = tok.specialTokens.get(token) ?? tok.encode(token)[0] ?? -1;
      } catch {
        oldId = -1;
      }
      if (oldId >= 0 && (tok.specialTokens.has(token) || tok.idToToken(oldId) === token)) p.data.set(src.data.subarray(oldId * C, (oldId + 1) * C), id * C);
      else for (let j = 0; j < C; j++) p.data[id * C + j] = 0.02 * rng.normal();
    }
  }
  return { model: grown, tokenizer: newTok, added: [...missingChars.map((c) => JSON.stringify(c)), ...missingSpecial] };
}

export interface EncodedChat {
  ids: Int32Array;
  /** 1 where the loss applies */
  mask: Uint8Array;
}

/** Conversations → token ids and loss masks; those longer than blockSize + 1 tokens are dropped and counted. */
export function encodeChats(convs: readonly Conversation[], tok: Tokenizer, blockSize: number): { examples: EncodedChat[]; tooLong: number } {
  const encode = (t: string): number[] => tok.encode(t, { allowedSpecial: 'all' });
  const examples: EncodedChat[] = [];
  let tooLong = 0;
  for (const c of convs) {
    const ex = chatTemplate.renderForTraining(c.messages, encode);
    if (ex.ids.length > blockSize + 1) {
      tooLong++;
      continue;
    }
    if (!ex.mask.some((m) => m === 1)) continue; // no assistant turn: nothing to learn
    examples.push({ ids: Int32Array.from(ex.ids), mask: ex.mask });
  }
  return { examples, tooLong };
}

/** B conversations as one padded batch: x = ids[0:T], y = ids[1:T+1] (−1 where padded), weights = mask[1:T+1] */
export function chatBatch(examples: readonly EncodedChat[]): { x: Int32Array; y: Int32Array; w: Float32Array; B: number; T: number } {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.ids.length - 1));
  const x = new Int32Array(B * T), y = new Int32Array(B * T).fill(-1), w = new Float32Array(B * T);
  examples.forEach((e, b) => {
    for (let t = 0; t < e.ids.length - 1; t++) {
      x[b * T + t] = e.ids[t];
      y[b * T + t] = e.ids[t + 1];
      w[b * T + t] = e.mask[t + 1];
    }
  });
  return { x, y, w, B, T };
}

export interface SftConfig {
  maxIters: number;
  batchSize: number;
  lr: number;
  minLr: number;
  warmupIters: number;
  weightDecay: number;
  gradClip: number;
  evalInterval: number;
  /** evaluations without a better dev loss before stopping; 0 = never */
  patience: number;
  seed: number;
}

export const SFT_DEFAULTS: SftConfig = {
  maxIters: 800, batchSize: 16, lr: 1e-3, minLr: 1e-4, warmupIters: 50, weightDecay: 0.1, gradClip: 1.0,
  evalInterval: 250, patience: 0, seed: 1337,
};

export class SftTrainer {
  readonly config: SftConfig;
  readonly optimizer: AdamW;
  readonly rng: Rng;
  step = 0;
  bestDevLoss = Infinity;
  evalsWithoutImprovement = 0;
  history: { step: number; train?: number; dev?: number }[] = [];

  constructor(readonly model: GPT, readonly train: EncodedChat[], readonly dev: EncodedChat[], config: Partial<SftConfig> = {}) {
    this.config = { ...SFT_DEFAULTS, ...config };
    if (!train.length) throw new Error('SFT: no usable training conversations');
    model.toStorage();
    const decayed = model.decayedParameterNames();
    const named = model.namedParameters();
    this.optimizer = new AdamW(
      [
        { params: named.filter(([n]) => decayed.has(n)).map(([, p]) => p), weightDecay: this.config.weightDecay },
        { params: named.filter(([n]) => !decayed.has(n)).map(([, p]) => p), weightDecay: 0 },
      ],
      { lr: this.config.lr },
    );
    this.rng = new Rng(this.config.seed);
  }

  private loss(batch: ReturnType<typeof chatBatch>): Tensor {
    return this.model.forward(batch.x, batch.B, batch.T, { targets: batch.y, lossMask: batch.w }).loss!;
  }

  trainStep(): number {
    const c = this.config;
    const picks = Array.from({ length: c.batchSize }, () => this.train[this.rng.int(this.train.length)]);
    const lr = cosineLr(this.step, { maxLr: c.lr, minLr: c.minLr, warmup: c.warmupIters, decaySteps: c.maxIters });
    this.model.train();
    const { loss } = optimizationStep(
      this.model.parameters(), this.optimizer, lr, c.gradClip, () => this.loss(chatBatch(picks)),
      (l) => new Error(`SFT loss became ${l} at step ${this.step}: try a lower --lr`),
    );
    this.step++;
    return loss;
  }

  /** mean assistant-token loss over the whole dev set */
  devLoss(): number {
    const set = this.dev.length ? this.dev : this.train.slice(0, 64);
    this.model.eval();
    let s = 0, n = 0;
    noGrad(() => {
      for (let i = 0; i < set.length; i += this.config.batchSize) {
        const group = set.slice(i, i + this.config.batchSize);
        s += stepScope(() => this.loss(chatBatch(group)).item()) * group.length;
        n += group.length;
      }
    });
    this.model.train();
    return s / n;
  }

  async run(cb: {
    onStep?(step: number, loss: number): void;
    onEval?(step: number, dev: number, improved: boolean): void | Promise<void>;
    shouldStop?(): boolean;
  } = {}): Promise<'done' | 'early-stopped' | 'interrupted'> {
    const c = this.config;
    while (this.step < c.maxIters) {
      const l = this.trainStep();
      if (this.step % 10 === 0) this.history.push({ step: this.step, train: l });
      cb.onStep?.(this.step, l);
      if (this.step % c.evalInterval === 0 || this.step === c.maxIters) {
        const dev = this.devLoss();
        const improved = dev < this.bestDevLoss;
        if (improved) (this.bestDevLoss = dev), (this.evalsWithoutImprovement = 0);
        else this.evalsWithoutImprovement++;
        this.history.push({ step: this.step, dev });
        await cb.onEval?.(this.step, dev, improved);
        if (c.patience > 0 && this.evalsWithoutImprovement >= c.patience) return 'early-stopped';
      }
      if (cb.shouldStop?.()) return 'interrupted';
      if (this.step % 20 === 0) await tick();
    }
    return 'done';
  }
}

/** Greedy answers to held-out questions, scored mechanically (src/data/sft-default.ts scoreAnswer). */
export async function heldOutAccuracy(
  model: GPT, tok: Tokenizer, examples: readonly SftExample[], maxTokens = 32,
): Promise<{ accuracy: number; answers: string[]; byKind: Record<string, { right: number; total: number }> }> {
  const endId = tok.specialTokens.get(chatTemplate.endOfTurn);
  const answers: string[] = [];
  const byKind: Record<string, { right: number; total: number }> = {};
  let ok = 0;
  for (const ex of examples) {
    const msgs: ChatMessage[] = promptMessages(ex);
    const prompt = chatTemplate.render(msgs, { addGenerationPrompt: true });
    let answer = '';
    try {
      const r = await generateText(model, tok, prompt, {
        maxNewTokens: maxTokens, temperature: 0, stopTokens: endId !== undefined ? [endId] : [],
        stop: [...chatTemplate.stopStrings, '\n'], yieldEvery: 0,
      });
      answer = r.text;
    } catch {
      answer = ''; // a prompt the tokenizer cannot encode counts as a wrong answer
    }
    answers.push(answer);
    const k = (byKind[ex.kind] ??= { right: 0, total: 0 });
    k.total++;
    if (scoreAnswer(ex, answer)) ok++, k.right++;
  }
  return { accuracy: examples.length ? ok / examples.length : 0, answers, byKind };
}

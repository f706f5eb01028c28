// BERT's task models, as transformers' modeling_bert.py: BertForMaskedLM (the MLM head: dense + GELU +
// LayerNorm, then a decoder tied to the word embeddings with its own bias), BertForSequenceClassification
// (pooler → dropout → classifier) and BertForTokenClassification (dropout → classifier on every position).
// Each `run`s a batch of BertInputs with optional labels (−100, or any negative, = ignored) to logits and
// HF's cross-entropy loss, and is a LanguageModel so the one Trainer, checkpoints and the registry take it;
// BERT is an encoder, so it makes no generation state.
import { Module } from '../nn/module.js';
import { Dropout, LayerNorm, Linear } from '../nn/layers.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { gelu } from '../tensor/elementwise.js';
import { linear } from '../tensor/matmul.js';
import { crossEntropy } from '../tensor/nnops.js';
import type { ForwardOptions, LanguageModel, ModelOutput, ModelState } from './model.js';
import { validateBertClassifierConfig, validateBertConfig, type BertClassifierConfig, type BertConfig } from './bert-config.js';
import { BertModel, type BertInputs } from './bert.js';

/** names transformers' state dicts hold that we keep once: the decoder is tied to the word embeddings and its bias is cls.predictions.bias */
const TIED_NAMES = new Set(['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias']);

/** labels with every negative (−100 in HF, −1 in gptlab) mapped to −1, the ignore index of crossEntropy */
function ignoreNegatives(labels: ArrayLike<number>): Int32Array {
  return Int32Array.from(labels, (l) => (l < 0 ? -1 : l));
}

/** What the three task models share: the encoder, the LanguageModel plumbing, HF-compatible loading. */
export abstract class BertTaskModel extends Module implements LanguageModel {
  abstract readonly type: string;
  readonly rng: Rng;
  readonly bert: BertModel;
  constructor(readonly config: BertConfig, seed: number, withPooler: boolean) {
    super();
    this.rng = new Rng(seed);
    this.bert = this.child('bert', new BertModel(config, this.rng, withPooler));
  }

  /** logits of a batch and, with labels, HF's mean cross-entropy over the non-ignored labels */
  abstract run(x: BertInputs, labels?: ArrayLike<number>): ModelOutput;

  /** LanguageModel's forward: `run` on (B, T) ids with every token real and segment 0; `targets` are the labels */
  forward(idx: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ModelOutput {
    if (opts.state) throw new Error(`${this.type}: BERT is an encoder and keeps no generation state`);
    return this.run({ ids: idx, B, T }, opts.targets);
  }

  get contextLength(): number {
    return this.config.blockSize;
  }

  createState(): ModelState {
    throw new Error(`${this.type}: BERT is an encoder (bidirectional): it does not generate text; use fill-mask`);
  }

  describe(): string {
    const c = this.config;
    return `BERT (${this.type}): ${c.nLayer} layers, ${c.nHead} heads, ${c.nEmbd} wide, FFN ${c.intermediateSize}, ${c.blockSize} positions, vocab ${c.vocabSize}`;
  }

  numParams(): number {
    return this.numParameters();
  }

  /** the 2-D weights of Linear layers (not embeddings, biases or LayerNorms), as HF's Trainer decays */
  decayedParameterNames(): Set<string> {
    return new Set(this.namedParameters().filter(([n, p]) => p.ndim === 2 && !n.includes('embeddings')).map(([n]) => n));
  }

  /** Module's loadStateDict, accepting and dropping the tied decoder names a transformers state dict holds */
  override loadStateDict(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source = 'state dict'): void {
    const kept = new Map([...state].filter(([n]) => !TIED_NAMES.has(n) && !n.endsWith('.position_ids')));
    super.loadStateDict(kept, source);
  }
}

/** cls.predictions.transform: dense → GELU → LayerNorm */
class BertPredictionHeadTransform extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    this.dense = this.child('dense', new Linear(cfg.nEmbd, cfg.nEmbd, true, rng));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(cfg.nEmbd, true, cfg.layerNormEps));
  }
  forward(x: Tensor): Tensor {
    return this.LayerNorm.forward(gelu(this.dense.forward(x)));
  }
}

/** cls.predictions: the transform and the bias of the tied decoder */
class BertLMPredictionHead extends Module {
  readonly transform: BertPredictionHeadTransform;
  readonly bias: Tensor;
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    this.transform = this.child('transform', new BertPredictionHeadTransform(cfg, rng));
    this.bias = this.param('bias', Tensor.zeros([cfg.vocabSize]));
  }
}

class BertOnlyMLMHead extends Module {
  readonly predictions: BertLMPredictionHead;
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    this.predictions = this.child('predictions', new BertLMPredictionHead(cfg, rng));
  }
}

/** BERT with the masked-language-model head; logits (B, T, V) */
export class BertForMaskedLM extends BertTaskModel {
  readonly type = 'bert';
  readonly cls: BertOnlyMLMHead;
  constructor(config: BertConfig, seed = 1337) {
    super(validateBertConfig(config as unknown as Record<string, unknown>), seed, false);
    this.cls = this.child('cls', new BertOnlyMLMHead(this.config, this.rng));
  }
  run(x: BertInputs, labels?: ArrayLike<number>): ModelOutput {
    const { sequence } = this.bert.forward(x); // (B, T, C)
    const p = this.cls.predictions;
    const h = p.transform.forward(sequence); // (B, T, C)
    const logits = linear(h, this.bert.embeddings.word_embeddings.weight, p.bias); // (B, T, V)
    return { logits, loss: labels ? crossEntropy(logits, ignoreNegatives(labels), -1) : null };
  }
}

/** BERT with a classifier on the pooled [CLS] vector; logits (B, numLabels) */
export class BertForSequenceClassification extends BertTaskModel {
  readonly type = 'bert-seq-cls';
  declare readonly config: BertClassifierConfig;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  constructor(config: BertClassifierConfig, seed = 1337) {
    super(validateBertClassifierConfig(config as unknown as Record<string, unknown>), seed, true);
    this.dropout = this.child('dropout', new Dropout(this.config.dropout, this.rng));
    this.classifier = this.child('classifier', new Linear(this.config.nEmbd, this.config.labels.length, true, this.rng));
  }
  /** labels: one class index per row (B) */
  run(x: BertInputs, labels?: ArrayLike<number>): ModelOutput {
    const { pooled } = this.bert.forward(x); // (B, C)
    const logits = this.classifier.forward(this.dropout.forward(pooled!)); // (B, nLabels)
    if (labels && labels.length !== x.B) throw new Error(`${this.type}: ${labels.length} labels for a batch of ${x.B}`);
    return { logits, loss: labels ? crossEntropy(logits, ignoreNegatives(labels), -1) : null };
  }
}

/** BERT with a classifier on every position; logits (B, T, numLabels) */
export class BertForTokenClassification extends BertTaskModel {
  readonly type = 'bert-token-cls';
  declare readonly config: BertClassifierConfig;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  constructor(config: BertClassifierConfig, seed = 1337) {
    super(validateBertClassifierConfig(config as unknown as Record<string, unknown>), seed, false);
    this.dropout = this.child('dropout', new Dropout(this.config.dropout, this.rng));
    this.classifier = this.child('classifier', new Linear(this.config.nEmbd, this.config.labels.length, true, this.rng));
  }
  /** labels: one class index per position (B, T), −100 where none (special tokens, padding, ## pieces) */
  run(x: BertInputs, labels?: ArrayLike<number>): ModelOutput {
    const { sequence } = this.bert.forward(x); // (B, T, C)
    const logits = this.classifier.forward(this.dropout.forward(sequence)); // (B, T, nLabels)
    return { logits, loss: labels ? crossEntropy(logits, ignoreNegatives(labels), -1) : null };
  }
}

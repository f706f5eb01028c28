// A Hugging Face config.json checked against its model.safetensors before any model is allocated: the layer
// count and the widths the config claims must be the ones the tensors have (a config saying n_layer
// 1000000000 would otherwise allocate gigabytes before failing), and every weight must be finite. Errors are
// one line naming the file and the config field or tensor (transformers' field names: configuration_gpt2.py,
// configuration_llama.py).
import { checkFiniteValues } from './finite-weights.js';

/** the GPTConfig fields checked (src/models/gpt.ts) */
interface GPTDims { vocabSize: number; blockSize: number; nLayer: number; nHead: number; nEmbd: number }
/** the LlamaConfig fields checked (src/models/llama-config.ts) */
interface LlamaDims { vocabSize: number; nLayer: number; nHead: number; nKvHead: number; nEmbd: number; intermediateSize: number }

type Shapes = ReadonlyMap<string, { shape: readonly number[] }>;

/** where a check points: the config file and the weights file as the user named them */
export interface HfSources {
  config: string;
  weights: string;
}

/** one more than the highest block index in tensor names matching `re` (group 1: the index), 0 for none */
function layersHeld(state: Shapes, re: RegExp): number {
  let n = 0;
  for (const name of state.keys()) {
    const m = re.exec(name);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** a config field whose value × `per` (default 1) must equal axis `axis` of the first of `names` the file has (none: left to the load) */
interface Dim { key: string; value: number; names: string[]; axis: number; per?: number }

function checkDims(state: Shapes, dims: Dim[], src: HfSources): void {
  for (const d of dims) {
    const name = d.names.find((n) => state.has(n));
    if (name === undefined) continue;
    const shape = state.get(name)!.shape;
    if (shape[d.axis] !== d.value * (d.per ?? 1)) throw new Error(`${src.config}: ${d.key} ${d.value} but ${src.weights} has tensor "${name}" of shape [${shape.join(', ')}]`);
  }
}

function checkLayers(state: Shapes, key: string, value: number, re: RegExp, src: HfSources): void {
  const held = layersHeld(state, re);
  if (value !== held) throw new Error(`${src.config}: ${key} ${value} but ${src.weights} holds ${held} layers`);
}

function divides(src: HfSources, key: string, a: number, whole: string, b: number): void {
  if (b % a !== 0) throw new Error(`${src.config}: ${key} ${a} does not divide ${whole} ${b}`);
}

/** both GPT-2 spellings: GPT2LMHeadModel's `transformer.` prefix and GPT2Model's bare names */
const gpt2 = (n: string): string[] => [`transformer.${n}`, n];

/** Throws naming config.json's field when GPT-2 config `c` does not fit the safetensors tensors. */
export function checkGptConfigAgainstState(c: GPTDims, state: Shapes, src: HfSources): void {
  divides(src, 'n_head', c.nHead, 'n_embd', c.nEmbd);
  checkLayers(state, 'n_layer', c.nLayer, /^(?:transformer\.)?h\.(\d+)\./, src);
  checkDims(state, [
    { key: 'vocab_size', value: c.vocabSize, names: gpt2('wte.weight'), axis: 0 },
    { key: 'n_embd', value: c.nEmbd, names: gpt2('wte.weight'), axis: 1 },
    { key: 'n_positions', value: c.blockSize, names: gpt2('wpe.weight'), axis: 0 },
  ], src);
}

/** Throws naming config.json's field when LLaMA config `c` does not fit the safetensors tensors. */
export function checkLlamaConfigAgainstState(c: LlamaDims, state: Shapes, src: HfSources): void {
  divides(src, 'num_attention_heads', c.nHead, 'hidden_size', c.nEmbd);
  divides(src, 'num_key_value_heads', c.nKvHead, 'num_attention_heads', c.nHead);
  checkLayers(state, 'num_hidden_layers', c.nLayer, /^model\.layers\.(\d+)\./, src);
  checkDims(state, [
    { key: 'vocab_size', value: c.vocabSize, names: ['model.embed_tokens.weight'], axis: 0 },
    { key: 'hidden_size', value: c.nEmbd, names: ['model.embed_tokens.weight'], axis: 1 },
    { key: 'intermediate_size', value: c.intermediateSize, names: ['model.layers.0.mlp.gate_proj.weight'], axis: 0 },
    { key: 'num_key_value_heads', value: c.nKvHead, per: c.nEmbd / c.nHead, names: ['model.layers.0.self_attn.k_proj.weight'], axis: 0 },
  ], src);
}

/** Throws `<weights>: tensor "<name>" holds NaN at index i: refusing to load it` at the first non-finite weight. */
export function checkFiniteState(state: ReadonlyMap<string, { data: Float32Array }>, weights: string): void {
  for (const [name, t] of state) checkFiniteValues(t.data, `${weights}: tensor "${name}"`);
}

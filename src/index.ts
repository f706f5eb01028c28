// gptlab's library surface (browser-safe). Node-only pieces — files, threads, checkpoints on disk, the HTTP
// server — are in `gptlab/node` (src/node.ts).
export * from './tensor/index.js';
export { Module } from './nn/module.js';
export { Linear, Embedding, LayerNorm, Dropout } from './nn/layers.js';
export { GPT, GPT_PRESETS, KVCache, type GPTConfig, type GPTOutput } from './models/gpt.js';
export { AdamW, clipGradNorm, cosineLr, type AdamWOptions, type ParamGroup } from './optim/adamw.js';
export { type Backend, type MatmulArgs, backend, setBackend } from './backend/backend.js';
export { JsBackend } from './backend/js.js';
export { initBackend, ensureBackend } from './backend/index.js';
export * from './tokenizers/index.js';
export { parseSplit, splitTokens, randomBatch } from './data/dataset.js';
export { arithmeticCorpus, languageCorpus, demoCorpus } from './data/corpus.js';
export { parseChatData, chatTemplate, ChatTemplate, SPECIAL_TOKENS } from './data/chat.js';
export { defaultSftData, scoreAnswer } from './data/sft-default.js';
export { Trainer, TRAIN_DEFAULTS, type TrainConfig, type TrainState } from './train/trainer.js';
export { SftTrainer, withChatVocabulary, encodeChats, heldOutAccuracy } from './train/sft.js';
export { checkpointFiles, checkpointFromFiles } from './train/checkpoint.js';
export { generateIds, generateText, type TextGenOptions } from './generate/generate.js';
export { sampleNext, type SamplingOptions } from './generate/sampling.js';
export { beamSearch } from './generate/beam.js';
export { generateBatch } from './generate/batch.js';
export { StopStringMatcher, StreamDecoder } from './generate/stop.js';
export { GPTEngine } from './generate/engine.js';
export { evaluateText } from './eval/evaluate.js';
export * from './eval/metrics.js';
export { lossCurveSVG } from './eval/plot.js';
export { readSafetensors, writeSafetensors } from './formats/safetensors.js';

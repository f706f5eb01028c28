// The n-gram model's entry for the model registry (src/models/registry.ts): `registerModelType(ngramModelType)`
// makes `--arch ngram` and checkpoints with model_type "ngram" build an NgramModel. The model is not trained by
// gradient steps: after `create`, call `fit(ids)`; its counts travel in the checkpoint as NgramModel.toJSON().
import type { ModelType } from './registry.js';
import { DEFAULT_NGRAM_SMOOTHING, NgramModel, validateNgramConfig, type NgramModelConfig } from './ngram-model.js';

export const ngramModelType: ModelType<NgramModelConfig> = {
  type: 'ngram',
  description: 'count-based n-gram model (interpolated modified Kneser–Ney, as KenLM), fitted by counting, no gradient training',
  presets: {
    bigram: { order: 2, blockSize: 256, smoothing: DEFAULT_NGRAM_SMOOTHING },
    trigram: { order: 3, blockSize: 256, smoothing: DEFAULT_NGRAM_SMOOTHING },
    '5gram': { order: 5, blockSize: 256, smoothing: DEFAULT_NGRAM_SMOOTHING },
  },
  defaultPreset: 'trigram',
  overridable: { order: 'int', blockSize: 'int' },
  validate: (c) => validateNgramConfig(c),
  create: (c, seed) => new NgramModel(c, seed),
  vocabParameters: [],
};

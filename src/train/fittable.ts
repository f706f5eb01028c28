// Count-based models (the n-gram, src/models/ngram-model.ts) are fitted on token ids rather than trained by
// gradient steps. The training job and the ladder recognise them by shape, through this one guard, so no
// module outside models/ imports a concrete model class.
import type { LanguageModel } from '../models/model.js';

/** a model fitted by counting a token stream: `fit(ids)`, and no trainable parameters */
export interface Fittable extends LanguageModel {
  /** counts ids (each in [0, vocabSize)) and replaces any earlier fit */
  fit(ids: ArrayLike<number>): unknown;
}

/** true for a model with `fit` and no parameters (an n-gram) */
export function isFittable(m: LanguageModel): m is Fittable {
  return typeof (m as Partial<Fittable>).fit === 'function' && m.namedParameters().length === 0;
}

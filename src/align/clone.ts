// A copy of a model with its own weights: the frozen reference policy of DPO, PPO and GRPO (the starting
// model, kept as it was while the policy trains). Built through the registry, so any model type copies.
import type { LanguageModel } from '../models/model.js';
import { createModel } from '../models/registry.js';

/** a new model of the same type and config holding copies of `model`'s tensors */
export function cloneModel(model: LanguageModel): LanguageModel {
  const copy = createModel(model.type, model.config as unknown as Record<string, unknown>, 1);
  copy.loadStateDict(new Map([...model.stateDict()].map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }])), 'cloneModel');
  return copy;
}

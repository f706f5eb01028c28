// The ranges of the sampling parameters, shared by the HTTP server's request checks and the terminal chat's
// /set command, so that a value one accepts the other accepts too. Browser-safe.

export interface ParamRule {
  /** the OpenAI field name */
  name: string;
  min: number;
  max: number;
  /** min itself is not allowed */
  exclusiveMin?: boolean;
  integer?: boolean;
}

/** temperature 0 and top_p 0 both mean greedy (argmax), as in OpenAI's API */
export const PARAM_RULES = {
  temperature: { name: 'temperature', min: 0, max: 2 },
  topP: { name: 'top_p', min: 0, max: 1 },
  topK: { name: 'top_k', min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
  repetitionPenalty: { name: 'repetition_penalty', min: 0, max: 10, exclusiveMin: true },
  presencePenalty: { name: 'presence_penalty', min: -2, max: 2 },
  frequencyPenalty: { name: 'frequency_penalty', min: -2, max: 2 },
  seed: { name: 'seed', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true },
  logitBias: { name: 'logit_bias', min: -100, max: 100 },
  topLogprobs: { name: 'top_logprobs', min: 0, max: 20, integer: true },
} as const satisfies Record<string, ParamRule>;

/** the problem with `v` under `rule`, as one line naming the field; null when it is fine */
export function ruleProblem(rule: ParamRule, v: number): string | null {
  const kind = rule.integer ? 'an integer' : 'a number';
  if (!Number.isFinite(v) || (rule.integer && !Number.isInteger(v))) return `${rule.name} must be ${kind}, got ${v}`;
  if (v < rule.min || v > rule.max || (rule.exclusiveMin && v === rule.min)) {
    return `${rule.name} must be ${kind} ${rule.exclusiveMin ? 'above' : 'from'} ${rule.min} ${rule.exclusiveMin ? 'up to' : 'to'} ${rule.max}, got ${v}`;
  }
  return null;
}

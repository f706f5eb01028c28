// Building a model whose weights are about to be read from a file, without first drawing random weights for
// it: the idea of PyTorch's meta device / `torch.nn.utils.skip_init` (and accelerate's `init_empty_weights`).
// Inside `withoutWeights(fn)`, every Linear is created as a placeholder with no weight storage at all (the
// loader then gives it its weights with `Linear.materialize`, or replaces it with another layer such as a
// QuantizedLinear), and Embedding tables are zero-filled instead of drawn. A loaded quantized model thus never
// holds the float32 matrices it replaces, and loading skips one random draw per parameter. Modules built this
// way do not advance the random generator they are given as a normal construction would.

let depth = 0;

/** Runs fn (typically a model constructor) with weight initialisation skipped; see the file comment. */
export function withoutWeights<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

/** true inside withoutWeights: layers create placeholders instead of drawing weights */
export function weightsSkipped(): boolean {
  return depth > 0;
}

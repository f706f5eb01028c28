// The row order of LLaMA's query and key projections in GGUF. transformers applies RoPE with rotate_half
// (dimension i pairs with i + hs/2); llama.cpp's LLAMA rope (mode NORM) rotates adjacent pairs (2i, 2i+1),
// so convert_hf_to_gguf.py (LlamaModel.permute: reshape(n_head, 2, hs/2, C).swapaxes(1, 2)) interleaves the
// two halves of every head's rows. Rows are moved whole, so this works on float rows and on quantized rows.

/**
 * Reorders the rows of a [nHeads·hs, C] projection from rotate_half to interleaved pairs, per head
 * (convert_hf_to_gguf.py LlamaModel.permute); inverse = true undoes it. `rowSize` is the unit moved (floats
 * or bytes per row).
 */
export function permuteRopeRows<T extends Float32Array | Uint8Array>(data: T, nHeads: number, rowSize: number, inverse = false): T {
  const rows = data.length / rowSize, hs = rows / nHeads, half = hs / 2;
  const out = new (data.constructor as { new (n: number): T })(data.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (const [src, dst] of [[i, 2 * i], [i + half, 2 * i + 1]] as const) {
        const [from, to] = inverse ? [dst, src] : [src, dst];
        out.set(data.subarray((h * hs + from) * rowSize, (h * hs + from + 1) * rowSize), (h * hs + to) * rowSize);
      }
    }
  }
  return out;
}


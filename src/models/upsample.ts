// Nearest-neighbour upsampling by 2 (torch.nn.Upsample(scale_factor=2, mode='nearest')), differentiable: each
// input pixel becomes a 2×2 block; its gradient is the sum of the block's gradients. The DCGAN-style
// generator grows images with it followed by a convolution (Odena et al. 2016's remedy for the checkerboard
// artefacts of transposed convolutions).
import { Tensor } from '../tensor/tensor.js';

/** x (N, C, H, W) → (N, C, 2H, 2W) */
export function upsample2x(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new Error(`upsample2x: input must be (N, C, H, W), got shape [${x.shape}]`);
  const [N, C, H, W] = x.shape, planes = N * C, out = new Float32Array(planes * 4 * H * W), src = x.data;
  for (let p = 0; p < planes; p++) for (let y = 0; y < 2 * H; y++) for (let xx = 0; xx < 2 * W; xx++) {
    out[(p * 2 * H + y) * 2 * W + xx] = src[(p * H + (y >> 1)) * W + (xx >> 1)];
  }
  return Tensor.fromOp(out, [N, C, 2 * H, 2 * W], [x], (o) => {
    const g = o.grad!, gx = x.gradBuf();
    for (let p = 0; p < planes; p++) for (let y = 0; y < 2 * H; y++) for (let xx = 0; xx < 2 * W; xx++) {
      gx[(p * H + (y >> 1)) * W + (xx >> 1)] += g[(p * 2 * H + y) * 2 * W + xx];
    }
  });
}

// The tensor engine's public surface.
export { Tensor, noGrad, isGradEnabled, sizeOf } from './tensor.js';
export * from './elementwise.js';
export * from './shape.js';
export * from './matmul.js';
export * from './nnops.js';
export { Rng, type RngState } from './rng.js';

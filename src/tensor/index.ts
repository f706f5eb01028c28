// The tensor engine's public surface.
export { Tensor, noGrad, isGradEnabled, sizeOf } from './tensor.js';
export * from './elementwise.js';
export * from './shape.js';
export * from './matmul.js';
export * from './nnops.js';
export { Rng, type RngState } from './rng.js';
export { conv1d, conv2d, conv1dDirect, conv2dDirect, type Conv1dOptions, type Conv2dOptions } from './conv.js';
export { maxPool2d, avgPool2d, maxPool1d, avgPool1d, adaptiveAvgPool2d, flatten, type Pool2dOptions, type AvgPool2dOptions } from './pool.js';
export { batchNorm, type BatchNormOptions } from './batchnorm.js';
export { rnnLayer, lstmLayer, gruLayer, type LayerOutput, type Nonlinearity } from './rnn-layers.js';
export { rmsNorm } from './rmsnorm.js';
export { rope, ropeHeads, ropePositions, ropeInvFreq } from './rope.js';
export { silu, swiglu } from './silu.js';
export { repeatKv } from './repeat-kv.js';

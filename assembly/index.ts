// Entry point of the kernels module: everything exported here is callable from src/backend/wasm.ts.
// The module allocates nothing; the JS side owns the memory layout and passes byte offsets.
export { gemm, gemmPackB, gemmScratchBytes, gemmSmallM, gemmSmallMCols, packBAll, packedBSize } from './gemm';
export { qmatvec, quantizeActivations, interleaveQ8_0Rows } from './qmatvec';
export { softmax, softmaxBackward, causalSoftmax, causalSoftmaxBackward, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, gelu, geluBackward, swiglu, swigluBackward, adamw, zeroBytes, addVec, sumSquares, scaleVec } from './ops';
export { initConstants, constantsBytes } from './vmath';
export { attnForward, attnBackward, attnScratchBytes } from './attention';
export { im2colUnits, col2imUnits } from './conv';
export { rnnAct, rnnActBackward, lstmGates, lstmGatesBackward, gruGates, gruGatesBackward } from './rnn';
export { dequantizeBlocks, quantizeBlocks } from './quantize';
export { word2vecTrain, word2vecScratchBytes } from './word2vec';

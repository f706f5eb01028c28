// gptlab's Node-only surface: threaded kernels, files, checkpoints on disk, the server.
export { initBackend } from './backend/index.node.js';
export { loadCheckpoint, saveCheckpoint, resolveCheckpointDir } from './train/checkpoint.node.js';
export { runTrainJob } from './train/pretrain-job.node.js';
export { readTextFile } from './formats/text-file.node.js';
export { writeFileAtomic, writeFileAtomicSync, writeDirAtomic, writeDirAtomicSync } from './formats/atomic.node.js';
export { loadTokenizerFile, saveTokenizerFile, resolveTokenizer } from './tokenizers/file.node.js';
export { loadEncoding } from './tokenizers/tiktoken.node.js';
export { startServer } from './serve/server.js';
export { chatLoop } from './cli/chat.js';
export { loadVectors, saveVectors, formatFromName, type VectorFormat } from './embeddings/vectors-file.node.js';
export { runSeq2seqTrain, loadSeq2seq } from './train/seq2seq-job.node.js';
export { runMlmJob } from './train/mlm-job.node.js';
export { runClassifyTrain, runClassifyPredict } from './train/classify-job.node.js';
export { runTagTrain, runTagPredict } from './train/tag-job.node.js';
export { loadModelFile } from './train/model-file.node.js';
// PNG output (fast-png: a bare import, so it stays out of the browser entry point)
export { encodePNG, imageGrid, heatmap, gridPNG, heatmapPNG } from './eval/png.js';
export { decisionBoundary, decisionBoundaryPNG } from './eval/decision-boundary.js';
export { trainBoundary, mlpProbabilities } from './train/boundary.js';

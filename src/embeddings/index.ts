// Word vectors before the Transformer: count-based (co-occurrence → PPMI → truncated SVD) and predictive
// (word2vec SGNS and CBOW), similarity and analogies, and the original tool's file formats. Browser-safe;
// file I/O is in vectors-file.node.ts.
export { SENTENCE_END, corpusTokens, unsegmentedTextNote, Word2VecVocabulary } from './vocab.js';
export { CsrMatrix, DenseMatrix, type MatrixOperator } from './sparse.js';
export { cooccurrenceMatrix, cooccurrencePairs, longestSentence, pairsInSentence, pairsInText, sentenceLengths, windowWeight, type CooccurrenceOptions, type WindowWeighting } from './cooccurrence.js';
export { ppmiMatrix, type PpmiOptions } from './ppmi.js';
export { truncatedSvd, type SvdOptions, type TruncatedSvd } from './svd.js';
export { trainPpmiSvd, type PpmiSvdOptions } from './ppmi-svd.js';
export { unigramTable } from './noise.js';
export { keepProbabilities } from './subsample.js';
export { WORD2VEC_MAX_WINDOW, trainWord2Vec, type Word2VecMethod, type Word2VecModel, type Word2VecOptions, type Word2VecProgress } from './word2vec.js';
export { WordVectors } from './vectors.js';
export { analogy, cosine, dot, nearestWords, scoreAll, topK, type AnalogyMethod, type Neighbour, type Similarity } from './similarity.js';
export { evaluateAnalogies, parseAnalogyQuestions, type AnalogyQuestion, type AnalogyScore, type EvaluateAnalogyOptions } from './analogy-eval.js';
export { formatLf, readWord2VecText, writeWord2VecBinary, writeWord2VecText } from './word2vec-format.js';
export { readWord2VecBinary } from './word2vec-binary-reader.js';
export { COUNTRIES, builtinAnalogies, embeddingCorpus, type Country, type EmbeddingCorpusOptions } from './corpus.js';

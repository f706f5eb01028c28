// The work of `gptlab embed train` (embed.ts), on a worker thread: reading or generating the text, its
// vocabulary, and the training. All of it is synchronous (word2vec's loop in TypeScript or in the wasm kernels,
// PPMI counting and the SVD); run on the main thread it would keep Node from ever running a SIGINT handler, so
// Ctrl-C could only kill the process without a word. Here the main thread stays free: it prints what this
// thread reports, draws the progress bar and, on Ctrl-C, says that nothing was written before it exits
// (embed.ts trainSub). The code and its inputs are the same as on the main thread, so are the vectors; and a
// heap that runs out here ends this thread (ERR_WORKER_OUT_OF_MEMORY, one line on the main one), not the process.
//
// Protocol, each step answered before the next: the job comes as workerData; this thread reads the text and
// posts `prepared` (the vocabulary, the shape of the text, a note on unsegmented text); the main thread posts
// `setup` with the vector size, and this thread sets up the kernels of --backend (sgns, cbow) and posts `ready`;
// the main thread checks the run's size and posts `go` (or terminates the thread); then come `progress`
// messages and `done` with the vectors (transferred). Any failure is an `error` message.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { UsageError } from './args.js';
import { setupBackend } from './common.js';
import { backend } from '../backend/backend.js';
import { readTextFile } from '../formats/text-file.node.js';
import { embeddingCorpus } from '../embeddings/corpus.js';
import { corpusTokens, unsegmentedTextNote, Word2VecVocabulary } from '../embeddings/vocab.js';
import { trainWord2Vec, type Word2VecProgress } from '../embeddings/word2vec.js';
import { trainPpmiSvd } from '../embeddings/ppmi-svd.js';
import type { WindowWeighting } from '../embeddings/cooccurrence.js';
import { textShape, type TextShape } from './embed-estimates.js';

export interface EmbedJob {
  method: 'sgns' | 'cbow' | 'ppmi-svd';
  /** the text: --data FILE, or (undefined) the built-in corpus of `sentences` sentences from `seed` */
  data?: string;
  sentences: number;
  minCount: number;
  window: number;
  seed: number;
  /** sgns, cbow */
  negative: number;
  epochs: number;
  sample: number;
  alpha?: number;
  threads: number;
  backend: string;
  /** ppmi-svd */
  weighting: WindowWeighting;
  cds: number;
  eigenPower: number;
}

/** what the text turned out to be: its tokens (`</s>` included), its vocabulary, its sentences */
export interface Prepared {
  type: 'prepared';
  tokens: number;
  words: string[];
  counts: Float64Array;
  /** the encoded text's sentences (textShape; a Map survives postMessage) */
  shape: TextShape;
  /** unsegmentedTextNote's line for --data, or null */
  note: string | null;
}

export type EmbedWorkerMessage =
  | Prepared
  | { type: 'ready'; kernels: string; fast: boolean }
  | { type: 'progress'; progress: Word2VecProgress }
  | { type: 'done'; data: Float32Array; wordsPerSecond: number; nnz: number; singularValues: number[] }
  | { type: 'error'; name: string; message: string; stack?: string; usage: boolean };

/** what the main thread posts: the vector size after `prepared`, then `go` after `ready` */
export type EmbedCommand = { type: 'setup'; dim: number } | { type: 'go' };

/** marks the workerData of an embed job, so that importing this module elsewhere runs nothing */
export const EMBED_JOB = 'gptlabEmbedJob';

async function run(port: MessagePort, job: EmbedJob): Promise<void> {
  const next = (): Promise<EmbedCommand> => new Promise((resolve) => port.once('message', resolve));
  const post = (m: EmbedWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  const text = job.data === undefined ? embeddingCorpus({ sentences: job.sentences, seed: job.seed }) : readTextFile(job.data);
  const tokens = corpusTokens(text);
  const vocab = Word2VecVocabulary.fromTokens(tokens, job.minCount);
  const ids = vocab.encode(tokens);
  const note = job.data === undefined ? null : unsegmentedTextNote(tokens, job.data);
  const tokenCount = tokens.length;
  tokens.length = 0; // the text's words are no longer needed: let them go before training
  post({ type: 'prepared', tokens: tokenCount, words: vocab.words, counts: vocab.counts, shape: textShape(ids), note });
  const setup = await next();
  if (setup.type !== 'setup') return;
  const predictive = job.method !== 'ppmi-svd';
  const kernels = predictive ? await setupBackend({ backend: job.backend, threads: job.threads }) : '';
  post({ type: 'ready', kernels, fast: predictive && !!backend().word2vecTrain });
  if ((await next()).type !== 'go') return;
  if (predictive) {
    const model = trainWord2Vec(vocab, ids, {
      method: job.method as 'sgns' | 'cbow', dim: setup.dim, window: job.window, negative: job.negative, epochs: job.epochs,
      sample: job.sample, seed: job.seed, ...(job.alpha !== undefined ? { alpha: job.alpha } : {}), threads: job.threads,
      onProgress: (progress) => post({ type: 'progress', progress }),
    });
    const data = model.vectors.data;
    post({ type: 'done', data, wordsPerSecond: model.wordsPerSecond, nnz: 0, singularValues: [] }, [data.buffer as ArrayBuffer]);
  } else {
    const m = trainPpmiSvd(vocab, ids, { dim: setup.dim, window: job.window, weighting: job.weighting, alpha: job.cds, eigenPower: job.eigenPower, seed: job.seed });
    const data = m.vectors.data;
    post({ type: 'done', data, wordsPerSecond: 0, nnz: m.nnz, singularValues: Array.from(m.singularValues) }, [data.buffer as ArrayBuffer]);
  }
}

const job = (workerData as Record<string, unknown> | null)?.[EMBED_JOB] as EmbedJob | undefined;
if (parentPort && job) {
  const port = parentPort;
  run(port, job).catch((e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ type: 'error', name: err.name, message: err.message, stack: err.stack, usage: err instanceof UsageError } satisfies EmbedWorkerMessage);
  });
}

// What counts as a gptlab model folder, for every command that must not write over one (a training run's
// --out, export and lora merge --out, any output file flag):
//   a checkpoint folder   config.json (gptlab-checkpoint, -seq2seq, -vision or -gan) beside model.safetensors
//   a run folder          it holds checkpoint/ or best/ (what RunFolder writes), plus log.jsonl, loss.svg, …
// `isModelFolder` asks it of one folder, `insideModelFolder` of a path and every folder above it.
import fs from 'node:fs';
import path from 'node:path';

/** the checkpoint and best-model folders a run folder holds (src/train/run-folder.node.ts) */
const RUN_SUBFOLDERS = ['checkpoint', 'best'] as const;

/**
 * `dir` is a run folder: it holds checkpoint/ or best/. `withCheckpoint`: only when one of them holds a
 * checkpoint (config.json), not merely a folder of that name.
 */
export function isRunFolder(dir: string, withCheckpoint = false): boolean {
  return RUN_SUBFOLDERS.some((d) => fs.existsSync(withCheckpoint ? path.join(dir, d, 'config.json') : path.join(dir, d)));
}

/**
 * `dir` is a checkpoint folder: its config.json is of a gptlab format (gptlab-checkpoint, gptlab-seq2seq,
 * gptlab-vision, gptlab-gan). `anyModel`: also any config.json beside model.safetensors, whatever its format
 * (a Hugging Face folder, or a gptlab checkpoint whose config.json is damaged).
 */
export function isCheckpointFolder(dir: string, anyModel = false): boolean {
  const config = path.join(dir, 'config.json');
  if (anyModel && fs.existsSync(config) && fs.existsSync(path.join(dir, 'model.safetensors'))) return true;
  try {
    const format = (JSON.parse(fs.readFileSync(config, 'utf8')) as { format?: unknown } | null)?.format;
    return typeof format === 'string' && format.startsWith('gptlab-');
  } catch {
    return false;
  }
}

export interface ModelFolderOptions {
  /**
   * Ask it of a folder above the path to be written (insideModelFolder does), rather than of the folder that
   * is to be written or written into. The two differ on purpose:
   * - a run's checkpoint/ or best/ must hold config.json: a wrong yes here refuses every path below the
   *   folder (an unrelated ~/checkpoint/ would put all of ~ off limits), while for the folder itself a folder
   *   that merely has best/ is refused, which costs nothing;
   * - any model folder counts (a Hugging Face one too): a file written inside a model, or an existing one
   *   replaced, breaks it, while a Hugging Face folder itself is not gptlab's and may be refreshed whole
   *   (`export --format hf --out DIR --force` over an earlier export) or get a file beside it (a .gguf).
   */
  above?: boolean;
}

/**
 * `dir` is a gptlab model folder, never written over or into by another command: a checkpoint folder or a
 * run folder (see ModelFolderOptions for `above`, the test for folders above the path to be written).
 */
export function isModelFolder(dir: string, opts: ModelFolderOptions = {}): boolean {
  const above = !!opts.above;
  return isRunFolder(dir, above) || isCheckpointFolder(dir, above);
}

/**
 * What the training commands write into a run folder, every kind together: RunFolder's checkpoint/, best/,
 * log.jsonl and loss.svg; LoRA runs' adapter/ and merged/; grpo's cold-start start/; RL runs' reward.svg; classify's
 * and vision's confusion.svg and misclassified.png, and vision predict's default predict/; gan's report.json and
 * sample images. `--force` clears these (clearRunContents), so that a new run never shares its folder with files
 * of an earlier run of another kind; anything else in the folder is the user's and stays.
 */
export const RUN_CONTENTS: readonly (string | RegExp)[] = [
  'checkpoint', 'best', 'log.jsonl', 'loss.svg', 'adapter', 'merged', 'start', 'reward.svg', 'confusion.svg', 'misclassified.png',
  'predict', 'report.json', /^samples-epoch-\d+\.png$/, /^scatter-epoch-\d+\.svg$/,
  // a checkpoint swap's leftovers (src/formats/atomic.node.ts): checkpoint.tmp-PID-HEX, best.old-PID-HEX
  /^(checkpoint|best|adapter|merged|start)\.(tmp|old)-\d+-[0-9a-f]+$/,
];

/**
 * Removes from run folder `dir` what an earlier run wrote there (RUN_CONTENTS), nothing else, and only when `dir`
 * is a run folder (isRunFolder): a folder that holds no run is never cleared. Returns the names removed.
 */
export function clearRunContents(dir: string): string[] {
  if (!isRunFolder(dir)) return [];
  const gone = fs.readdirSync(dir).filter((n) => RUN_CONTENTS.some((c) => (typeof c === 'string' ? c === n : c.test(n))));
  for (const n of gone) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  return gone;
}

/** the nearest of `p` and the folders above it that is a model folder (isModelFolder with `above`), or null */
export function enclosingModelFolder(p: string): string | null {
  for (let d = path.resolve(p); ; d = path.dirname(d)) {
    if (isModelFolder(d, { above: true })) return d;
    if (d === path.dirname(d)) return null;
  }
}

/** `p` is, or lies inside, a model folder (isModelFolder with `above`, asked of `p` and every folder above it) */
export function insideModelFolder(p: string): boolean {
  return enclosingModelFolder(p) !== null;
}

/** `folder` as the user would write it: absolute when `given` (the path they gave) is, else relative to the current folder */
export function shownLike(folder: string, given: string): string {
  return path.isAbsolute(given) ? folder : path.relative(process.cwd(), folder) || '.';
}

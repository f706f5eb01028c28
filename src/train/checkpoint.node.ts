// Checkpoint folders on disk: written atomically (a complete new folder replaces the old one, never a
// half-written mix), read with errors that name the folder and the file.
import fs from 'node:fs';
import path from 'node:path';
import { recoverDirAtomicSync, writeDirAtomicSync } from '../formats/atomic.node.js';
import { checkpointFromFiles, parseJSON, type Checkpoint } from './checkpoint.js';

/** a JSON file of a run folder; throws `FILE: missing` or `FILE: not valid JSON (…)` */
export function readJSONFile(file: string): unknown {
  if (!fs.existsSync(file)) throw new Error(`${file}: missing`);
  return parseJSON(fs.readFileSync(file, 'utf8'), file);
}

/** writes a checkpoint folder atomically (its parent folders are created) */
export function saveCheckpoint(dir: string, files: Record<string, Uint8Array | string>): void {
  fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  writeDirAtomicSync(dir, files);
}

/**
 * A checkpoint folder, or a run folder holding `best/` (preferred unless `resumable`) and `checkpoint/`.
 */
export function resolveCheckpointDir(p: string, resumable = false): string {
  recoverCheckpoints(p);
  if (!fs.existsSync(p)) throw new Error(`${p}: no such checkpoint folder`);
  if (!fs.statSync(p).isDirectory()) throw new Error(`${p}: a checkpoint is a folder (with config.json, model.safetensors, tokenizer.json)`);
  if (fs.existsSync(path.join(p, 'config.json'))) return p;
  const order = resumable ? ['checkpoint'] : ['best', 'checkpoint'];
  for (const sub of order) if (fs.existsSync(path.join(p, sub, 'config.json'))) return path.join(p, sub);
  throw new Error(`${p}: not a checkpoint (no config.json here, nor in ${order.map((s) => s + '/').join(' or ')})${adapterHint(p)}`);
}

/** for a PEFT adapter folder (a LoRA run's adapter/: adapter_config.json), what to give instead; '' for any other folder */
function adapterHint(p: string): string {
  if (!fs.existsSync(path.join(p, 'adapter_config.json'))) return '';
  const run = path.dirname(p);
  if (!['best', 'checkpoint'].some((s) => fs.existsSync(path.join(run, s, 'config.json')))) {
    return '; it is a LoRA adapter (PEFT): give the LoRA run folder it came from, or merge it onto its base with gptlab lora merge RUN --out DIR';
  }
  return `; it is a LoRA adapter (PEFT): give the run folder (${run}), or merge it onto its base with gptlab lora merge ${run} --out DIR`;
}

/**
 * Finishes or undoes checkpoint swaps that a kill interrupted, in `p` itself or in a run folder's
 * checkpoint/ and best/, and removes stale temporary folders; says what it recovered on stderr.
 */
export function recoverCheckpoints(p: string): void {
  const notes = [p, path.join(p, 'checkpoint'), path.join(p, 'best')].flatMap((d) => recoverDirAtomicSync(d));
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
}

export function loadCheckpoint(p: string, resumable = false): Checkpoint {
  const dir = resolveCheckpointDir(p, resumable);
  return checkpointFromFiles((name) => {
    const f = path.join(dir, name);
    return fs.existsSync(f) ? new Uint8Array(fs.readFileSync(f)) : null;
  }, dir);
}

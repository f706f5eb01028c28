// Checkpoint folders on disk: written atomically (a complete new folder replaces the old one, never a
// half-written mix), read with errors that name the folder and the file.
import fs from 'node:fs';
import path from 'node:path';
import { writeDirAtomicSync } from '../formats/atomic.node.js';
import { checkpointFromFiles, type Checkpoint } from './checkpoint.js';

export function saveCheckpoint(dir: string, files: Record<string, Uint8Array | string>): void {
  writeDirAtomicSync(dir, files);
}

/**
 * A checkpoint folder, or a run folder holding `best/` (preferred unless `resumable`) and `checkpoint/`.
 */
export function resolveCheckpointDir(p: string, resumable = false): string {
  if (!fs.existsSync(p)) throw new Error(`${p}: no such checkpoint folder`);
  if (!fs.statSync(p).isDirectory()) throw new Error(`${p}: a checkpoint is a folder (with config.json, model.safetensors, tokenizer.json)`);
  if (fs.existsSync(path.join(p, 'config.json'))) return p;
  const order = resumable ? ['checkpoint'] : ['best', 'checkpoint'];
  for (const sub of order) if (fs.existsSync(path.join(p, sub, 'config.json'))) return path.join(p, sub);
  throw new Error(`${p}: not a checkpoint (no config.json here, nor in ${order.map((s) => s + '/').join(' or ')})`);
}

export function loadCheckpoint(p: string, resumable = false): Checkpoint {
  const dir = resolveCheckpointDir(p, resumable);
  return checkpointFromFiles((name) => {
    const f = path.join(dir, name);
    return fs.existsSync(f) ? new Uint8Array(fs.readFileSync(f)) : null;
  }, dir);
}

// gptlab boundary: TensorFlow Playground on the command line — an MLP with any activation trained on a 2-D
// toy set (moons, circles, spirals, xor, blobs), its decision regions written as PNGs at chosen epochs.
import fs from 'node:fs';
import path from 'node:path';
import { helpText, parseArgs, UsageError, type OptTable, SEED_RANGE } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { TOY2D_NAMES } from '../data/toy2d.js';
import { ACTIVATIONS } from '../models/mlp-net.js';
import { trainBoundary } from '../train/boundary.js';
import { enclosingModelFolder, isModelFolder, shownLike } from '../train/model-folder.node.js';

const OPTS: OptTable = {
  dataset: { type: 'string', default: 'spirals', choices: TOY2D_NAMES, help: 'toy set' },
  n: { type: 'int', default: 300, min: 2, help: 'points' },
  noise: { type: 'number', min: 0, help: 'Gaussian jitter (default per set)' },
  classes: { type: 'int', min: 2, max: 8, help: 'classes of spirals or blobs' },
  activation: { type: 'string', default: 'tanh', choices: ACTIVATIONS, help: 'hidden activation' },
  hidden: { type: 'ints', default: [16, 16], min: 1, help: 'hidden widths, e.g. 16,16' },
  epochs: { type: 'int', default: 200, min: 1, help: 'passes over the data' },
  snapshots: { type: 'ints', help: 'epochs at which to write the regions (default 0, a quarter, half, the end)' },
  batchSize: { type: 'int', default: 16, min: 1, help: 'points per step' },
  lr: { type: 'number', default: 0.01, above: 0, help: 'Adam learning rate' },
  size: { type: 'int', default: 256, min: 8, max: 2048, help: 'image side in pixels' },
  seed: { type: 'int', ...SEED_RANGE, default: 1, help: 'random seed (data and initialisation)' },
  out: { type: 'string', default: 'runs/boundary', help: 'folder for the PNGs' },
  force: { type: 'bool', help: 'replace a boundary run already in --out (its old PNGs are removed)' },
  ...BACKEND_OPTS,
};

const USAGE = 'gptlab boundary [--dataset spirals] [--activation tanh] [--hidden 16,16] [--epochs 200] [--snapshots 10,50,200] [--out DIR] [--force]';

/** a snapshot's file name: the epoch zero-padded to the width of the last epoch, so names sort in order */
export const snapshotName = (epoch: number, epochs: number): string => `boundary-epoch-${String(epoch).padStart(String(epochs).length, '0')}.png`;

/** the snapshot PNGs of an earlier run in `out` (none when it does not exist); refuses an `out` that is a file, a gptlab run or checkpoint, or lies inside one */
function oldSnapshots(out: string): string[] {
  const home = enclosingModelFolder(path.dirname(path.resolve(out)));
  if (home) throw new UsageError(`boundary: --out ${out}: lies inside a gptlab run or checkpoint folder (${shownLike(home, out)}), which no other command writes into; choose another --out`);
  const st = fs.statSync(out, { throwIfNoEntry: false });
  if (!st) return [];
  if (!st.isDirectory()) throw new UsageError(`boundary: --out ${out}: exists and is not a folder (--out names a folder)`);
  if (isModelFolder(out)) throw new UsageError(`boundary: --out ${out}: is a gptlab run or checkpoint folder, never written into by another command; choose another --out`);
  return fs.readdirSync(out).filter((f) => /^boundary-epoch-\d+\.png$/.test(f));
}

/** `gptlab boundary …`; returns the exit code */
export async function boundaryCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'boundary');
  if (maybeHelp(o, () => helpText('boundary', 'decision regions of an MLP on a 2-D toy set, as PNGs over epochs', OPTS, USAGE))) return 0;
  const epochs = o.epochs as number;
  const snapshots = (o.snapshots as number[] | undefined) ?? [...new Set([0, Math.round(epochs / 4), Math.round(epochs / 2), epochs])];
  const late = snapshots.find((e) => e > epochs);
  if (late !== undefined) throw new UsageError(`boundary: --snapshots ${late} is after the last epoch (--epochs ${epochs})`);
  const out = o.out as string;
  const old = oldSnapshots(out);
  if (old.length && !o.force) throw new UsageError(`boundary: ${out} already holds a boundary run (${old.length} boundary-epoch-*.png); choose another --out, or replace it with --force`);
  await setupBackend(o);
  const res = trainBoundary({
    dataset: o.dataset as string, n: o.n as number, noise: o.noise as number | undefined, classes: o.classes as number | undefined,
    activation: o.activation as string, hidden: o.hidden as number[], epochs, snapshots, batchSize: o.batchSize as number,
    lr: o.lr as number, seed: o.seed as number, size: o.size as number,
  });
  fs.mkdirSync(out, { recursive: true });
  for (const f of old) fs.rmSync(path.join(out, f), { force: true });
  for (const s of res.snapshots) {
    const file = path.join(out, snapshotName(s.epoch, epochs));
    fs.writeFileSync(file, s.png);
    process.stdout.write(`epoch ${s.epoch}: loss ${s.loss.toFixed(4)}, accuracy ${(100 * s.accuracy).toFixed(1)}% → ${file}\n`);
  }
  return 0;
}

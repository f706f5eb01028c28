// The architecture as a test: folders form layers, and no module imports from a folder above its own
// (README "How it is built"). Node-only modules (*.node.ts) and the CLI sit where their folder does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** lowest first: a folder may import from its own layer and those before it */
export const LAYERS = [
  'backend', 'tensor', 'nn', 'optim', 'quant', 'lm', 'models', 'tokenizers', 'data', 'generate', 'eval',
  'formats', 'embeddings', 'train', 'align', 'serve', 'web', 'cli',
];

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

test('no module imports from a layer above its own', () => {
  const upward: string[] = [];
  for (const file of sources(src)) {
    const folder = path.relative(src, file).split(path.sep)[0];
    const rank = LAYERS.indexOf(folder);
    if (rank < 0) continue; // index.ts, node.ts: the library's surface
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/from '\.\.\/([a-z]+)\//g)) {
      const target = LAYERS.indexOf(m[1]);
      if (target > rank) upward.push(`${path.relative(src, file)} imports ${m[1]}/`);
    }
  }
  assert.deepEqual(upward, []);
});

test('every folder of src/ has its place in the layers', () => {
  const folders = fs.readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.filter((f) => !LAYERS.includes(f)), []);
});

test('nothing outside models/ imports a concrete model class except through the registry', () => {
  const concrete = /from '\.\.\/models\/(gpt|llama|ngram-model)\.js'/;
  // the Hugging Face and GGUF mappings convert those layouts, tensor by tensor
  const allowed = new Set(['formats/hf.ts', 'formats/gguf-model.ts', 'formats/gguf-model-read.ts']);
  const offenders = sources(src)
    .map((f) => path.relative(src, f))
    .filter((f) => !f.startsWith('models' + path.sep) && !allowed.has(f.split(path.sep).join('/')) && concrete.test(fs.readFileSync(path.join(src, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

// `gptlab info` on Hugging Face folders, GGUF files (--json) and LoRA run folders; the one-line errors for
// unsupported HF model types, missing paths, LoRA checkpoints read as plain ones and GGUF sft bases; sft from a
// Hugging Face folder; train's llama flags (--n-kv-head, also through --config).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../src/train/checkpoint.node.js';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-info-formats-'));
function run(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: tmp, timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const ok = (r: { code: number | null; err: string }): void => assert.equal(r.code, 0, r.err);
const fails = (r: { code: number | null; err: string }, line: RegExp): void => {
  assert.notEqual(r.code, 0);
  assert.match(r.err.trim(), line);
  assert.ok(!/\n\s+at /.test(r.err), 'no stack trace');
};

const tiny = ['--demo', '--arch', 'llama', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '128', '--max-iters', '2', '--eval-interval', '2', '--backend', 'js'];
const sftFlags = ['--max-iters', '2', '--eval-interval', '2', '--batch-size', '2', '--eval-examples', '0', '--backend', 'js'];

test('train takes --n-kv-head, and --config takes the same key', () => {
  ok(run('train', ...tiny, '--n-kv-head', '1', '--out', 'L'));
  assert.equal(JSON.parse(fs.readFileSync(path.join(tmp, 'L/best/config.json'), 'utf8')).model.nKvHead, 1);
  fs.writeFileSync(path.join(tmp, 'kv.json'), JSON.stringify({ nKvHead: 1 }));
  ok(run('train', ...tiny, '--config', 'kv.json', '--out', 'L2'));
  assert.equal(JSON.parse(fs.readFileSync(path.join(tmp, 'L2/best/config.json'), 'utf8')).model.nKvHead, 1);
});

test('info shows a Hugging Face folder; an unsupported model_type is one line for every command', () => {
  ok(run('export', 'L', '--format', 'hf', '--out', 'LH'));
  const i = run('info', 'LH');
  ok(i);
  assert.match(i.out, /^Hugging Face folder LH \(model_type llama/);
  assert.match(i.out, /parameters [\d,]+/);
  assert.match(i.out, /tensors +\d+ \(\d+ F32\)/);
  assert.match(i.out, /tokenizer +\S+: /);
  const j = JSON.parse(run('info', 'LH', '--json').out);
  assert.equal(j.format, 'hf');
  assert.equal(j.modelType, 'llama');
  assert.equal(j.config.num_key_value_heads, 1);
  assert.equal(j.parameters, j.tensors.reduce((a: number, t: { shape: number[] }) => a + t.shape.reduce((x, y) => x * y, 1), 0));
  fs.cpSync(path.join(tmp, 'LH'), path.join(tmp, 'B'), { recursive: true });
  const cfg = JSON.parse(fs.readFileSync(path.join(tmp, 'B/config.json'), 'utf8'));
  fs.writeFileSync(path.join(tmp, 'B/config.json'), JSON.stringify({ ...cfg, model_type: 'bert' }));
  for (const cmd of [['info', 'B'], ['sample', 'B', '-n', '2'], ['sft', '--base', 'B', '--out', 'sB', ...sftFlags]]) {
    fails(run(...cmd), /B\/config\.json: model_type "bert" is not supported \(gpt2, llama\)$/);
  }
  delete cfg.model_type;
  fs.writeFileSync(path.join(tmp, 'B/config.json'), JSON.stringify(cfg));
  fails(run('info', 'B'), /B\/config\.json: model_type is missing/);
});

test('sft --base takes a Hugging Face folder and refuses a GGUF file in one line', () => {
  const r = run('sft', '--base', 'LH', '--out', 'sH', ...sftFlags);
  ok(r);
  assert.ok(fs.existsSync(path.join(tmp, 'sH/best/model.safetensors')));
  ok(run('export', 'L', '--format', 'gguf', '--type', 'f32', '--out', 'L.gguf'));
  fails(run('sft', '--base', 'L.gguf', '--out', 'sG', ...sftFlags), /^gptlab: error: sft --base: L\.gguf is a GGUF file; fine-tuning starts from a gptlab checkpoint/);
});

test('info FILE.gguf --json prints JSON; a missing path is named as a file or folder', () => {
  const r = run('info', 'L.gguf', '--json');
  ok(r);
  const j = JSON.parse(r.out);
  assert.equal(j.metadata['general.architecture'], 'llama');
  assert.ok(j.tensors.some((t: { name: string; type: string }) => t.name === 'token_embd.weight' && t.type === 'F32'));
  assert.equal(typeof j.gptlab.parameters, 'number');
  fails(run('info', '/nonexistent.gguf'), /no such file or folder: \/nonexistent\.gguf$/);
});

test('a LoRA run: info shows the adapter, sample merges it, a plain loader names it in one line', () => {
  ok(run('sft', '--base', 'L', '--out', 'R', '--lora-r', '2', ...sftFlags));
  const i = run('info', 'R');
  ok(i);
  assert.match(i.out, /lora +r 2, alpha \d+, targets .+: [\d,]+ trainable adapter parameters on a base of [\d,]+/);
  assert.equal(JSON.parse(run('info', 'R', '--json').out).lora.r, 2);
  ok(run('sample', 'R', '-n', '3'));
  assert.throws(() => loadCheckpoint(path.join(tmp, 'R')), /R\/best is a LoRA run's checkpoint: use .*R\/merged, .*R\/adapter with --base, or gptlab lora merge$/);
});

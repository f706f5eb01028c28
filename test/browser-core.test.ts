// The core library (tensors, kernels, GPT, tokenizers, training, sampling) runs in a browser as it is built:
// headless Chromium loads dist/src/index.js as plain ES modules, installs the WebAssembly SIMD backend
// (single thread: the page is not cross-origin isolated), trains a tiny GPT for a few steps and samples
// from it. Skipped, saying why, where Debian's Chromium is not installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (install it with apt-get install -y chromium, or set CHROMIUM_PATH)`;
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const PAGE = `<!doctype html><meta charset="utf-8"><title>gptlab core</title><script type="module">
import * as g from '/dist/src/index.js';
try {
  const be = await g.initBackend({ backend: 'wasm' });
  const text = g.arithmeticCorpus({ lines: 400, maxOperand: 20, ops: ['+'], seed: 5 });
  const tok = g.CharTokenizer.fromText(text);
  const splits = g.splitTokens(Int32Array.from(tok.encode(text)), { train: 0.9, dev: 0.1, test: 0 });
  const model = new g.GPT({ vocabSize: tok.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false });
  const trainer = new g.Trainer(model, new g.Pretraining(splits), { maxIters: 60, batchSize: 8, lr: 1e-2, evalInterval: 60, evalIters: 4, sampleAt: [] }, { tokenizer: tok });
  const before = trainer.evaluate().dev;
  await trainer.run();
  const sample = await g.generateText(model, tok, '1', { maxNewTokens: 12, temperature: 0, seed: 1 });
  window.result = { backend: be.name, before, after: trainer.state.bestDevLoss, sample: sample.text, crossOriginIsolated };
} catch (e) {
  window.result = { error: String(e && e.stack || e) };
}
</script>`;

let server: Server;
let browser: Browser;
let url = '';

before(async () => {
  if (skip) return;
  server = createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (p === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    const file = path.join(dist, p.replace(/^\/dist\//, ''));
    if (!p.startsWith('/dist/') || !file.startsWith(dist) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  server?.close();
});

test('core library in a browser: wasm backend, GPT training and sampling', { skip, timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  const handle = await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: 50_000 });
  const r = (await handle.jsonValue()) as { error?: string; backend: string; before: number; after: number; sample: string };
  assert.equal(r.error, undefined, r.error);
  assert.deepEqual(errors, []);
  assert.equal(r.backend, 'wasm');
  assert.ok(r.after < r.before - 0.3, `dev loss ${r.before} → ${r.after}`);
  assert.equal(typeof r.sample, 'string');
});

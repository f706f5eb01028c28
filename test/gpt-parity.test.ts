// GPT against PyTorch, in the manner of llm.c's test_gpt2: scripts/make_gpt_fixture.py (Debian's
// python3-torch, nanoGPT's model.py) wrote a tiny model's weights, a batch, its logits, loss and every
// parameter gradient, and the losses of 10 AdamW steps. We rebuild the model from those weights and must
// agree — on the JS reference backend and on the WebAssembly backend. PyTorch is not needed to run this.
// Tolerances (float32 on both sides, different summation orders): logits |Δ| ≤ 2e-5, loss |Δ| ≤ 1e-5,
// gradients |Δ| ≤ 1e-5 + 1e-3·|g|, the 10 AdamW losses |Δ| ≤ 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAllClose } from './helpers/allclose.js';
import fs from 'node:fs';
import { readSafetensors, toFloat32 } from '../src/formats/safetensors.js';
import { GPT } from '../src/models/gpt.js';
import { AdamW } from '../src/optim/adamw.js';
import { clipGradNorm } from '../src/optim/clip.js';
import { initBackend } from '../src/backend/index.node.js';

interface Fixture {
  cfg: { n_layer: number; n_head: number; n_embd: number; block_size: number; vocab_size: number; bias: boolean };
  params: Map<string, { shape: number[]; data: Float32Array }>;
  grads: Map<string, Float32Array>;
  idx: Int32Array;
  targets: Int32Array;
  logits: Float32Array;
  loss: number;
  losses: number[];
  gradNorm: number;
  adamw: { lr: number; betas: [number, number]; eps: number; groups: { weight_decay: number; params: string[] }[] };
}

function load(name: string): Fixture {
  const f = readSafetensors(new Uint8Array(fs.readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url))), name);
  const params = new Map<string, { shape: number[]; data: Float32Array }>();
  const grads = new Map<string, Float32Array>();
  for (const [k, e] of f.tensors) {
    if (k.startsWith('param.')) params.set(k.slice(6), { shape: e.shape, data: toFloat32(e) });
    if (k.startsWith('grad.')) grads.set(k.slice(5), toFloat32(e));
  }
  const m = f.metadata;
  return {
    cfg: JSON.parse(m.config), params, grads,
    idx: f.tensors.get('idx')!.data as Int32Array, targets: f.tensors.get('targets')!.data as Int32Array,
    logits: toFloat32(f.tensors.get('logits')!), loss: Number(m.loss), losses: JSON.parse(m.adamw_losses),
    gradNorm: Number(m.grad_norm_before_clip), adamw: JSON.parse(m.adamw),
  };
}

function build(fx: Fixture): GPT {
  const c = fx.cfg;
  const model = new GPT({ vocabSize: c.vocab_size, blockSize: c.block_size, nLayer: c.n_layer, nHead: c.n_head, nEmbd: c.n_embd, dropout: 0, bias: c.bias });
  model.loadStateDict(fx.params, 'fixture');
  return model;
}

function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  assertAllClose(got, want, name, { atol, rtol });
}

// 'blas' (native OpenBLAS through koffi) runs where both are installed and is skipped, saying why, elsewhere
const blasMissing = (await import('../src/backend/blas.node.js')).blasUnavailableReason();

for (const backend of ['js', 'wasm', 'blas'] as const) {
  for (const file of ['gpt_tiny_bias.safetensors', 'gpt_tiny_nobias.safetensors']) {
    const skip = backend === 'blas' && blasMissing !== null ? blasMissing.split('\n')[0] : false;
    test(`GPT matches PyTorch: ${file} on ${backend}`, { skip }, async () => {
      await initBackend({ backend, threads: 1 });
      const fx = load(file);
      const B = 3, T = fx.cfg.block_size;
      const model = build(fx);
      const { logits, loss } = model.forward(fx.idx, B, T, { targets: fx.targets });
      close('logits', logits.data, fx.logits, 2e-5, 0);
      assert.ok(Math.abs(loss!.item() - fx.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${fx.loss}`);
      loss!.backward();
      for (const [name, p] of model.namedParameters()) {
        const want = fx.grads.get(name);
        assert.ok(want, `fixture has no gradient for ${name}`);
        close(`grad ${name}`, p.grad!, want, 1e-5, 1e-3);
      }

      // 10 AdamW steps on the same batch, PyTorch's recipe: clip to 1.0, two groups
      const fresh = build(fx);
      const byName = new Map(fresh.namedParameters());
      const groups = fx.adamw.groups.map((g) => ({ weightDecay: g.weight_decay, params: g.params.map((n) => byName.get(n)!) }));
      const opt = new AdamW(groups, { lr: fx.adamw.lr, beta1: fx.adamw.betas[0], beta2: fx.adamw.betas[1], eps: fx.adamw.eps });
      const losses: number[] = [];
      for (let s = 0; s < fx.losses.length; s++) {
        const out = fresh.forward(fx.idx, B, T, { targets: fx.targets });
        losses.push(out.loss!.item());
        opt.zeroGrad();
        out.loss!.backward();
        const norm = clipGradNorm(fresh.parameters(), 1.0);
        if (s === 0) assert.ok(Math.abs(norm - fx.gradNorm) <= 1e-5, `grad norm ${norm} vs PyTorch ${fx.gradNorm}`);
        opt.update();
      }
      close('AdamW losses', losses, fx.losses, 1e-4, 0);
    });
  }
}

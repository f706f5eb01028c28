import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  bf16ToNumber,
  f16ToNumber,
  fromFloat32,
  numberToBF16,
  numberToF16,
  readSafetensors,
  toFloat32,
  writeSafetensors,
  type SafetensorsEntry,
} from '../src/formats/safetensors.js';

// dist/test/x.js -> repo/test/fixtures
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

function sample(): Record<string, SafetensorsEntry> {
  return {
    'a.f32': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-3, -7]) },
    'b.f16': { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x7c00]) },
    'c.bf16': { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0xbf00]) },
    'd.i32': { dtype: 'I32', shape: [1, 1, 2], data: new Int32Array([-5, 2147483647]) },
    'e.i64': { dtype: 'I64', shape: [2], data: new BigInt64Array([-1n, 9007199254740993n]) },
    'f.u8': { dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
    'g.i8': { dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

// Build a file by hand, so corruption tests can say exactly what the header holds.
function rawFile(header: unknown, data: Uint8Array, opts: { pad?: boolean; lenOverride?: bigint } = {}): Uint8Array {
  let json =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (opts.pad !== false && json.length % 8) {
    const p = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.lenOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('round trip of every dtype, scalar and empty tensors, with metadata', () => {
  const input = sample();
  const bytes = writeSafetensors(input, { format: 'pt', note: 'héllo ✓' });
  const { tensors, metadata } = readSafetensors(bytes);
  assert.deepEqual(metadata, { format: 'pt', note: 'héllo ✓' });
  assert.equal(tensors.size, Object.keys(input).length);
  for (const [name, t] of Object.entries(input)) {
    const got = tensors.get(name);
    assert.ok(got, name);
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.equal(got.data.constructor, t.data.constructor, name);
    assert.deepEqual(Array.from(got.data as ArrayLike<number>), Array.from(t.data as ArrayLike<number>), name);
  }
});

test('layout follows the spec: LE u64 length, space padding to 8, widest dtype first, aligned, contiguous', () => {
  const bytes = writeSafetensors(sample());
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.equal(text[0], '{');
  assert.match(text, /} *$/);
  const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  assert.equal('__metadata__' in header, false, 'no metadata given -> no __metadata__ key');
  const entries = Object.values(header).sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
  const size: Record<string, number> = { I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1, I8: 1 };
  let cursor = 0;
  let prevSize = 8;
  for (const e of entries) {
    assert.equal(e.data_offsets[0], cursor);
    assert.equal(e.data_offsets[0] % size[e.dtype]!, 0, `${e.dtype} aligned`);
    assert.ok(size[e.dtype]! <= prevSize, 'sorted by decreasing element size');
    prevSize = size[e.dtype]!;
    cursor = e.data_offsets[1];
  }
  assert.equal(8 + n + cursor, bytes.length);
});

test('the worked example in the module comment is byte-exact', () => {
  const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }, { format: 'pt' });
  assert.equal(bytes.length, 104);
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0x58, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(bytes.subarray(96)), [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
});

test('reads from a Uint8Array at an odd byteOffset and returns independent copies', () => {
  const bytes = writeSafetensors(sample());
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const view = shifted.subarray(3);
  const { tensors } = readSafetensors(view);
  const a = tensors.get('a.f32')!;
  assert.deepEqual(Array.from(a.data as Float32Array), [1, -2, 3.5, 0, Math.fround(1e-3), -7]);
  shifted.fill(0);
  assert.equal((a.data as Float32Array)[0], 1, 'data must not alias the input buffer');
});

test('writer accepts subarray views and writes only the viewed elements', () => {
  const big = new Float32Array([9, 1, 2, 9]);
  const bytes = writeSafetensors({ x: { dtype: 'F32', shape: [2], data: big.subarray(1, 3) } });
  assert.deepEqual(Array.from(readSafetensors(bytes).tensors.get('x')!.data as Float32Array), [1, 2]);
});

test('writer rejects bad input with clear messages', () => {
  const f = new Float32Array(4);
  assert.throws(() => writeSafetensors({ x: { dtype: 'F32', shape: [3], data: f } }), /"x".*\[3\] has 3 elements but data has 4/);
  assert.throws(() => writeSafetensors({ x: { dtype: 'I32', shape: [4], data: f } }), /"x": dtype I32 needs a Int32Array, got Float32Array/);
  assert.throws(() => writeSafetensors({ x: { dtype: 'F64' as 'F32', shape: [4], data: f } }), /unknown dtype "F64"/);
  assert.throws(() => writeSafetensors({ x: { dtype: 'F32', shape: [-4], data: f } }), /shape must be/);
  assert.throws(() => writeSafetensors({ __metadata__: { dtype: 'F32', shape: [4], data: f } }), /reserved/);
  assert.throws(() => writeSafetensors({}, { n: 3 as unknown as string }), /metadata "n" must be a string/);
});

test('F16 / BF16 conversions: exact values, rounding to nearest even, specials', () => {
  assert.equal(f16ToNumber(0x3c00), 1);
  assert.equal(f16ToNumber(0xc000), -2);
  assert.equal(f16ToNumber(0x7bff), 65504);
  assert.equal(f16ToNumber(0x0001), 2 ** -24);
  assert.equal(f16ToNumber(0xfc00), -Infinity);
  assert.ok(Number.isNaN(f16ToNumber(0x7e00)));
  assert.equal(numberToF16(1), 0x3c00);
  assert.equal(numberToF16(65504), 0x7bff);
  assert.equal(numberToF16(65520), 0x7c00, 'rounds up to Infinity');
  assert.equal(numberToF16(2 ** -24), 0x0001);
  assert.equal(numberToF16(2 ** -26), 0x0000, 'below half the smallest subnormal');
  assert.equal(numberToF16(1 + 2 ** -11), 0x3c00, 'tie rounds to even (down)');
  assert.equal(numberToF16(1 + 3 * 2 ** -11), 0x3c02, 'tie rounds to even (up)');
  assert.equal(numberToF16(-0), 0x8000);
  // every finite half value survives bits -> number -> bits
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaNs
    assert.equal(numberToF16(f16ToNumber(h)), h);
  }
  assert.equal(bf16ToNumber(0x3f80), 1);
  assert.equal(numberToBF16(1), 0x3f80);
  assert.equal(numberToBF16(1 + 2 ** -8), 0x3f80, 'tie rounds to even (down)');
  assert.equal(numberToBF16(1 + 3 * 2 ** -8), 0x3f82, 'tie rounds to even (up)');
  assert.ok(Number.isNaN(bf16ToNumber(numberToBF16(NaN))));
  const xs = new Float32Array([0.1, -3.25, 1000, 1e-6]);
  const h = toFloat32({ dtype: 'F16', shape: [4], data: fromFloat32(xs, 'F16') });
  const b = toFloat32({ dtype: 'BF16', shape: [4], data: fromFloat32(xs, 'BF16') });
  for (let i = 0; i < xs.length; i++) {
    assert.ok(Math.abs(h[i]! - xs[i]!) <= Math.abs(xs[i]!) * 2 ** -11 + 2 ** -25, `f16 ${xs[i]}`);
    assert.ok(Math.abs(b[i]! - xs[i]!) <= Math.abs(xs[i]!) * 2 ** -8, `bf16 ${xs[i]}`);
  }
  assert.deepEqual(Array.from(toFloat32({ dtype: 'I64', shape: [2], data: new BigInt64Array([-3n, 7n]) })), [-3, 7]);
  const same = new Float32Array([1]);
  assert.equal(toFloat32({ dtype: 'F32', shape: [1], data: same }), same, 'F32 is returned without a copy');
});

test('corruption: each problem gives its own clear error naming the file', () => {
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const eight = new Uint8Array(8);
  const cases: [string, Uint8Array, RegExp][] = [
    ['short file', new Uint8Array(5), /truncated: 5 bytes, need at least 8/],
    ['header length past the end', rawFile({ x: ok }, eight, { lenOverride: 1000n }), /header length 1000 runs past the end/],
    ['huge header length', rawFile({ x: ok }, eight, { lenOverride: 2n ** 63n }), /header length 9223372036854775808 runs past the end/],
    ['not JSON', rawFile('{"x": nope}', eight), /header is not valid JSON/],
    ['not an object', rawFile('{', eight), /header is not valid JSON/],
    ['not starting with {', rawFile('[1,2]', eight), /must be a JSON object starting with '\{'/],
    ['bad UTF-8', rawFile(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), eight), /header is not valid UTF-8/],
    ['unknown dtype', rawFile({ x: { ...ok, dtype: 'F8' } }, eight), /tensor "x": unknown dtype "F8" \(supported: /],
    ['bad shape', rawFile({ x: { ...ok, shape: [2.5] } }, eight), /tensor "x": shape must be/],
    ['bad offsets', rawFile({ x: { ...ok, data_offsets: [0] } }, eight), /tensor "x": data_offsets must be \[begin, end\]/],
    ['begin after end', rawFile({ x: { ...ok, data_offsets: [8, 0] } }, eight), /begin after end/],
    ['offsets out of range (truncated data)', rawFile({ x: ok }, new Uint8Array(4)), /tensor "x": data_offsets \[0, 8\] out of range \(the data section is 4 bytes/],
    ['shape x dtype mismatch', rawFile({ x: { ...ok, shape: [3] } }, eight), /tensor "x": shape \[3\] × F32 needs 12 bytes but data_offsets \[0, 8\] span 8/],
    ['overlap', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight), /tensor "y" \[4, 8\] overlaps tensor "x"/],
    ['hole', rawFile({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight), /hole in the data section: bytes \[0, 4\)/],
    ['trailing bytes', rawFile({ x: ok }, new Uint8Array(12)), /data section is 12 bytes but the tensors cover only 8/],
    ['metadata not strings', rawFile({ __metadata__: { n: 3 }, x: ok }, eight), /"__metadata__.n" must be a string/],
    ['entry not an object', rawFile({ x: [1, 2] }, eight), /tensor "x": entry must be an object/],
  ];
  for (const [what, bytes, re] of cases) {
    assert.throws(
      () => readSafetensors(bytes, 'model.safetensors'),
      (e: Error) => {
        assert.match(e.message, /^model\.safetensors: invalid safetensors file: /, what);
        assert.match(e.message, re, what);
        return true;
      },
      what,
    );
  }
  // and the happy path of the same hand-built file parses, so the cases above fail for their stated reason
  assert.equal(readSafetensors(rawFile({ x: ok }, eight)).tensors.get('x')!.shape[0], 2);
  // unpadded headers are legal too
  assert.equal(readSafetensors(rawFile({ x: ok }, eight, { pad: false })).tensors.size, 1);
});

test('truncating a real file anywhere gives an error, never a crash or a silent success', () => {
  const bytes = writeSafetensors(sample(), { a: 'b' });
  for (let len = 0; len < bytes.length; len += 7) {
    assert.throws(() => readSafetensors(bytes.subarray(0, len), 'cut.safetensors'), /^Error: cut\.safetensors: invalid safetensors file/);
  }
});

// --- the PyTorch parity fixtures (made by scripts/make_gpt_fixture.py; reading them needs no torch) ---

function expectedShapes(cfg: { n_layer: number; n_embd: number; block_size: number; vocab_size: number; bias: boolean }) {
  const C = cfg.n_embd;
  const shapes: Record<string, number[]> = {
    'transformer.wte.weight': [cfg.vocab_size, C],
    'transformer.wpe.weight': [cfg.block_size, C],
    'transformer.ln_f.weight': [C],
  };
  if (cfg.bias) shapes['transformer.ln_f.bias'] = [C];
  for (let l = 0; l < cfg.n_layer; l++) {
    const p = `transformer.h.${l}.`;
    const lin: [string, number, number][] = [
      ['attn.c_attn', 3 * C, C],
      ['attn.c_proj', C, C],
      ['mlp.c_fc', 4 * C, C],
      ['mlp.c_proj', C, 4 * C],
    ];
    for (const ln of ['ln_1', 'ln_2']) {
      shapes[`${p}${ln}.weight`] = [C];
      if (cfg.bias) shapes[`${p}${ln}.bias`] = [C];
    }
    for (const [name, out, inp] of lin) {
      shapes[`${p}${name}.weight`] = [out, inp];
      if (cfg.bias) shapes[`${p}${name}.bias`] = [out];
    }
  }
  return shapes;
}

for (const [file, bias] of [['gpt_tiny_bias.safetensors', true], ['gpt_tiny_nobias.safetensors', false]] as const) {
  test(`fixture ${file}: every tensor present with the expected shape and dtype`, () => {
    const path = FIXTURES + file;
    const { tensors, metadata } = readSafetensors(new Uint8Array(readFileSync(path)), path);
    const cfg = JSON.parse(metadata.config!);
    assert.deepEqual(cfg, { n_layer: 2, n_head: 2, n_embd: 16, block_size: 8, vocab_size: 13, bias });
    const shapes = expectedShapes(cfg);
    const B = 3;
    const T = cfg.block_size;
    const want = new Map<string, number[]>();
    for (const [n, s] of Object.entries(shapes)) {
      want.set(`param.${n}`, s);
      want.set(`grad.${n}`, s);
    }
    want.set('idx', [B, T]);
    want.set('targets', [B, T]);
    want.set('logits', [B, T, cfg.vocab_size]);
    assert.deepEqual([...tensors.keys()].sort(), [...want.keys()].sort(), 'exactly the expected tensor names');
    for (const [name, shape] of want) {
      const t = tensors.get(name)!;
      assert.deepEqual(t.shape, shape, name);
      assert.equal(t.dtype, name === 'idx' || name === 'targets' ? 'I32' : 'F32', name);
    }
    const targets = tensors.get('targets')!.data as Int32Array;
    const idx = tensors.get('idx')!.data as Int32Array;
    assert.equal(targets.filter((x) => x === -1).length, 2, 'two ignored targets');
    assert.ok(targets.every((x) => x === -1 || (x >= 0 && x < cfg.vocab_size)));
    assert.ok(idx.every((x) => x >= 0 && x < cfg.vocab_size));
    // every gradient is finite and none is identically zero (the perturbed LayerNorms/biases make them non-trivial)
    for (const name of Object.keys(shapes)) {
      const g = tensors.get(`grad.${name}`)!.data as Float32Array;
      assert.ok(g.every(Number.isFinite), name);
      assert.ok(g.some((x) => x !== 0), `grad.${name} is not all zero`);
    }
    const loss = Number(metadata.loss);
    // the stored logits and targets reproduce the stored loss (mean cross-entropy over targets != -1)
    const logits = tensors.get('logits')!.data as Float32Array;
    const V = cfg.vocab_size;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < B * T; i++) {
      if (targets[i] === -1) continue;
      const row = logits.subarray(i * V, (i + 1) * V);
      const max = Math.max(...row);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      sum += Math.log(z) + max - row[targets[i]!]!;
      count++;
    }
    assert.ok(Math.abs(sum / count - loss) < 1e-5, `cross-entropy from logits ${sum / count} vs stored loss ${loss}`);
    assert.ok(Math.abs(loss - Math.log(cfg.vocab_size)) < 0.5, `initial loss ${loss} near ln(V)`);
    const losses = JSON.parse(metadata.adamw_losses!) as number[];
    assert.equal(losses.length, 10);
    assert.equal(losses[0], loss);
    assert.ok(losses[9]! < losses[0]!, 'AdamW reduces the loss');
    assert.ok(Number(metadata.grad_norm_before_clip) > 0);
    const adamw = JSON.parse(metadata.adamw!);
    assert.equal(adamw.lr, 0.01);
    assert.deepEqual(adamw.groups.map((g: { weight_decay: number }) => g.weight_decay), [0.1, 0]);
    assert.equal(adamw.groups[0].params.length, 4 * cfg.n_layer);
  });
}

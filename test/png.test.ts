// PNG output (src/eval/png.ts): every image is decoded again with fast-png's decoder and must give back the
// exact pixels; the grid's layout, borders and scaling and the heatmap's colours are checked by position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { encodePNG, gridPNG, heatmap, heatmapPNG, imageGrid, viridis, type Raster } from '../src/eval/png.js';

/** decodes and compares with the raster that was encoded */
function roundTrip(png: Uint8Array, img: Raster): void {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  const d = decode(png);
  assert.equal(d.width, img.width);
  assert.equal(d.height, img.height);
  assert.equal(d.channels, img.channels);
  assert.equal(d.depth, 8);
  assert.deepEqual(Array.from(d.data), Array.from(img.data));
}

test('encodePNG: grayscale and RGB decode to the same pixels', () => {
  const gray: Raster = { width: 5, height: 3, channels: 1, data: Uint8Array.from({ length: 15 }, (_, i) => i * 17) };
  roundTrip(encodePNG(gray), gray);
  const rgb: Raster = { width: 4, height: 7, channels: 3, data: Uint8Array.from({ length: 84 }, (_, i) => (i * 37) % 256) };
  roundTrip(encodePNG(rgb), rgb);
  assert.throws(() => encodePNG({ ...rgb, width: 5 }), /encodePNG: data has 84 bytes, 5×7×3 needs 105/);
});

test('imageGrid: layout, border, scaling from [min, max]', () => {
  // 3 grayscale 2×2 images, 2 per row, border 1: 2·2 + 3 = 7 wide, 2·2 + 3 = 7 high
  const data = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const g = imageGrid({ data, shape: [3, 2, 2] }, { perRow: 2, border: 1, borderValue: 100, range: [0, 11] });
  assert.equal(g.width, 7);
  assert.equal(g.height, 7);
  assert.equal(g.channels, 1);
  const px = (x: number, y: number): number => g.data[y * g.width + x];
  assert.equal(px(0, 0), 100); // border
  assert.equal(px(1, 1), 0); // image 0, (0, 0)
  assert.equal(px(2, 2), Math.round((3 / 11) * 255)); // image 0, (1, 1)
  assert.equal(px(4, 1), Math.round((4 / 11) * 255)); // image 1 starts after 2 pixels and a border
  assert.equal(px(2, 5), 255); // image 2, (1, 1) = 11, the top of the range
  assert.equal(px(5, 5), 100); // the empty fourth slot stays border
  roundTrip(gridPNG({ data, shape: [3, 2, 2] }, { perRow: 2, border: 1 }), imageGrid({ data, shape: [3, 2, 2] }, { perRow: 2, border: 1 }));
});

test('imageGrid: RGB (N, 3, H, W) is interleaved; values outside the range clamp', () => {
  // one 1×2 RGB image: red plane [1, -5], green [0, 0.5], blue [9, 0] over range [0, 1]
  const g = imageGrid({ data: [1, -5, 0, 0.5, 9, 0], shape: [1, 3, 1, 2] }, { border: 0, range: [0, 1] });
  assert.deepEqual([g.width, g.height, g.channels], [2, 1, 3]);
  assert.deepEqual(Array.from(g.data), [255, 0, 255, 0, 128, 0]);
  roundTrip(encodePNG(g), g);
  assert.throws(() => imageGrid({ data: new Float32Array(8), shape: [1, 2, 2, 2] }), /imageGrid: images must be \(N, H, W\) or \(N, 1\|3, H, W\)/);
});

test('heatmap: viridis ends, cell size, non-finite grey', () => {
  const h = heatmap({ data: [0, 1, NaN, 0.5], shape: [2, 2] }, { cell: 3 });
  assert.deepEqual([h.width, h.height, h.channels], [6, 6, 3]);
  const at = (x: number, y: number): number[] => Array.from(h.data.subarray((y * 6 + x) * 3, (y * 6 + x) * 3 + 3));
  assert.deepEqual(at(0, 0), [68, 1, 84]); // low end: dark purple
  assert.deepEqual(at(5, 2), [253, 231, 37]); // high end: yellow, the last pixel of cell (0, 1)
  assert.deepEqual(at(1, 4), [128, 128, 128]); // NaN
  assert.deepEqual(at(4, 4), viridis(0.5));
  roundTrip(heatmapPNG({ data: [0, 1, NaN, 0.5], shape: [2, 2] }, { cell: 3 }), h);
  const clamped = heatmap({ data: [-1, 2], shape: [1, 2] }, { range: [0, 1] });
  assert.deepEqual(Array.from(clamped.data), [68, 1, 84, 253, 231, 37]);
});

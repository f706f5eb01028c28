// A standalone SVG line chart with no dependencies, for loss curves in the CLI (written next to a checkpoint),
// in the web lab (inlined into the page) and in reports. The output is a complete <svg> document that any
// browser or image viewer opens.
//
//   lossCurveSVG([
//     { name: 'train', points: [[0, 4.2], [100, 2.9], [200, 2.1]] },
//     { name: 'dev',   points: [[0, 4.2], [200, 2.3]] },
//   ], { title: 'tinyshakespeare, char GPT', xLabel: 'step', yLabel: 'loss' })

export interface Series {
  name: string;
  /** [x, y] pairs; non-finite values (and y ≤ 0 with logY) break the line instead of breaking the chart */
  points: [number, number][];
  /** CSS colour; defaults to the palette */
  color?: string;
}

export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** pixels; default 640 × 400 */
  width?: number;
  height?: number;
  /** logarithmic y axis (useful when the loss spans orders of magnitude) */
  logY?: boolean;
}

// Tableau 10: distinct, readable on white, kind to the common forms of colour blindness
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

interface Box {
  left: number;
  top: number;
  /** plot width and height in pixels */
  pw: number;
  ph: number;
}

interface YScale {
  ticks: number[];
  /** tick spacing for labels; 0: decade labels, each with its own precision */
  step: number;
  map: (y: number) => number;
}

/** the data's x and y extent over usable points; xmin = Infinity when there are none */
function extent(series: Series[], usable: (x: number, y: number) => boolean): { xmin: number; xmax: number; ymin: number; ymax: number } {
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!usable(x, y)) continue;
      (xmin = Math.min(xmin, x)), (xmax = Math.max(xmax, x)), (ymin = Math.min(ymin, y)), (ymax = Math.max(ymax, y));
    }
  }
  return { xmin, xmax, ymin, ymax };
}

/** linear y: extended to nice bounds */
function linearY(ymin: number, ymax: number, box: Box): YScale {
  if (ymin === ymax) (ymin -= Math.abs(ymin) * 0.1 || 1), (ymax += Math.abs(ymax) * 0.1 || 1);
  const yt = niceTicks(ymin, ymax, Math.max(2, Math.round(box.ph / 50)));
  const lo = Math.min(ymin, yt.ticks[0]), hi = Math.max(ymax, yt.ticks[yt.ticks.length - 1]);
  return { ticks: yt.ticks, step: yt.step, map: (y) => box.top + box.ph - ((y - lo) / (hi - lo)) * box.ph };
}

/** log y: padded by 5% of the log range, ticks at decades (wide ranges) or at nice values */
function logY(ymin: number, ymax: number, box: Box): YScale {
  let lo = Math.log10(ymin), hi = Math.log10(ymax);
  if (hi - lo < 1e-9) (lo -= 0.05), (hi += 0.05);
  const pad = (hi - lo) * 0.05;
  (lo -= pad), (hi += pad);
  let ticks: number[], step: number;
  if (hi - lo >= 2) {
    ticks = [];
    for (let k = Math.ceil(lo); k <= Math.floor(hi); k++) ticks.push(10 ** k);
    step = 0;
  } else {
    const yt = niceTicks(10 ** lo, 10 ** hi, Math.max(2, Math.round(box.ph / 50)));
    ticks = yt.ticks.filter((t) => t > 0 && Math.log10(t) >= lo - 1e-9 && Math.log10(t) <= hi + 1e-9);
    step = yt.step;
  }
  return { ticks, step, map: (y) => box.top + box.ph - ((Math.log10(y) - lo) / (hi - lo)) * box.ph };
}

/** grid lines, tick labels, the frame and the axis labels */
function axes(out: string[], box: Box, xt: { ticks: number[]; step: number }, fx: (x: number) => number, y: YScale, opts: PlotOptions, height: number): void {
  const { left, top, pw, ph } = box;
  out.push('<g stroke="#e6e6e6" stroke-width="1">');
  for (const t of xt.ticks) out.push(`<line x1="${r2(fx(t))}" y1="${top}" x2="${r2(fx(t))}" y2="${top + ph}"/>`);
  for (const t of y.ticks) out.push(`<line x1="${left}" y1="${r2(y.map(t))}" x2="${left + pw}" y2="${r2(y.map(t))}"/>`);
  out.push('</g>');
  out.push('<g fill="#444">');
  for (const t of xt.ticks) out.push(`<text x="${r2(fx(t))}" y="${top + ph + 16}" text-anchor="middle">${esc(formatTick(t, xt.step))}</text>`);
  for (const t of y.ticks) out.push(`<text x="${left - 6}" y="${r2(y.map(t) + 4)}" text-anchor="end">${esc(formatTick(t, y.step > 0 ? y.step : t))}</text>`);
  out.push('</g>');
  out.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999" stroke-width="1"/>`);
  if (opts.xLabel) out.push(`<text x="${left + pw / 2}" y="${height - 10}" text-anchor="middle" fill="#222">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) {
    const cy = top + ph / 2;
    out.push(`<text x="14" y="${cy}" text-anchor="middle" fill="#222" transform="rotate(-90 14 ${cy})">${esc(opts.yLabel)}</text>`);
  }
}

/** one path per series (broken at unusable points), with dots for sparse series */
function lines(out: string[], series: Series[], fx: (x: number) => number, fy: (y: number) => number, usable: (x: number, y: number) => boolean): void {
  out.push(`<g fill="none" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round">`);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    let d = '', pen = false, count = 0;
    const dots: string[] = [];
    for (const [x, y] of s.points) {
      if (!usable(x, y)) {
        pen = false;
        continue;
      }
      const px = r2(fx(x)), py = r2(fy(y));
      d += `${pen ? 'L' : 'M'}${px} ${py}`;
      pen = true;
      count++;
      dots.push(`<circle cx="${px}" cy="${py}" r="2.5" fill="${esc(color)}" stroke="none"/>`);
    }
    if (count > 1) out.push(`<path d="${d}" stroke="${esc(color)}"><title>${esc(s.name)}</title></path>`);
    // sparse series (evaluations every few hundred steps) get a dot per point so the measurements show;
    // a single point would otherwise not be drawn at all
    if (count === 1 || (count > 1 && count <= 40)) out.push(...dots);
  });
  out.push('</g>');
}

/** the legend, top right inside the plot */
function legend(out: string[], series: Series[], box: Box): void {
  if (series.length === 0) return;
  const longest = Math.max(...series.map((s) => s.name.length));
  const lw = Math.min(box.pw - 8, 34 + longest * 7);
  const lh = 8 + series.length * 18;
  const lx = box.left + box.pw - lw - 8, ly = box.top + 8;
  out.push(`<g>`);
  out.push(`<rect x="${lx}" y="${ly}" width="${lw}" height="${lh}" fill="#ffffff" fill-opacity="0.85" stroke="#ccc"/>`);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const y = ly + 13 + i * 18;
    out.push(`<line x1="${lx + 8}" y1="${y}" x2="${lx + 26}" y2="${y}" stroke="${esc(color)}" stroke-width="2.5"/>`);
    out.push(`<text x="${lx + 32}" y="${y + 4}" fill="#222">${esc(s.name)}</text>`);
  });
  out.push(`</g>`);
}

/**
 * A complete SVG line chart of the series (width × height pixels, default 640 × 400). Throws when the size is
 * below 100 × 80. Non-finite points (and y ≤ 0 with logY) break a line instead of breaking the chart.
 */
export function lossCurveSVG(series: Series[], opts: PlotOptions = {}): string {
  const width = opts.width ?? 640, height = opts.height ?? 400;
  if (!(width >= 100 && height >= 80)) throw new Error(`lossCurveSVG: width/height too small (${width}×${height}); need at least 100×80`);
  const log = opts.logY ?? false;
  const top = opts.title ? 36 : 16, bottom = opts.xLabel ? 48 : 32;
  const box: Box = { left: 64, top, pw: width - 64 - 24, ph: height - top - bottom };
  const usable = (x: number, y: number): boolean => Number.isFinite(x) && Number.isFinite(y) && (!log || y > 0);
  let { xmin, xmax, ymin, ymax } = extent(series, usable);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" fill="#222">${esc(opts.title)}</text>`);
  if (xmin === Infinity) {
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#888">no data</text>`, '</svg>');
    return out.join('\n') + '\n';
  }
  // x: nice ticks over the data range (widened when every point has the same x)
  if (xmin === xmax) (xmin -= 1), (xmax += 1);
  const xt = niceTicks(xmin, xmax, Math.max(2, Math.round(box.pw / 90)));
  const x0 = Math.min(xmin, xt.ticks[0]), x1 = Math.max(xmax, xt.ticks[xt.ticks.length - 1]);
  const fx = (x: number): number => box.left + ((x - x0) / (x1 - x0)) * box.pw;
  const y = log ? logY(ymin, ymax, box) : linearY(ymin, ymax, box);
  axes(out, box, xt, fx, y, opts, height);
  lines(out, series, fx, y.map, usable);
  legend(out, series, box);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * Heckbert's "nice numbers": a step of 1, 2 or 5 × 10^k giving about `count` ticks covering [lo, hi].
 * Example: niceTicks(0.13, 4.2, 5) → step 1, ticks [0, 1, 2, 3, 4, 5].
 */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number } {
  const range = hi - lo;
  const rough = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(rough));
  const f = rough / mag;
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const t = start + i * step;
    if (t > end + step * 1e-9) break;
    ticks.push(Number(t.toPrecision(12))); // 0.30000000000000004 → 0.3
  }
  return { ticks, step };
}

function formatTick(v: number, step: number): string {
  // decided by the step alone so every label on one axis uses the same unit: 0, 5k, 10k, 15k
  if (step >= 1e6) return v === 0 ? '0' : `${trim((v / 1e6).toFixed(0))}M`;
  if (step >= 1e5) return v === 0 ? '0' : `${trim((v / 1e6).toFixed(1))}M`;
  if (step >= 1e3) return v === 0 ? '0' : `${trim((v / 1e3).toFixed(0))}k`;
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

function trim(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function r2(v: number): number {
  return Math.round(v * 100) / 100;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// A standalone SVG bar chart with no dependencies, beside lossCurveSVG (plot.ts): one bar per labelled value,
// its value printed above it, on a linear axis from 0 (or from a given floor, to show small differences).
// Used by `gptlab ladder` for the models' dev losses.
//
//   barChartSVG([{ label: 'bigram', value: 2.45 }, { label: 'GPT', value: 1.71 }], { title: 'dev loss', yLabel: 'nats/token' })

import { maxOf } from '../tensor/max-of.js';

export interface Bar {
  label: string;
  /** non-finite values get no bar and "n/a" */
  value: number;
  /** CSS colour; defaults to the palette */
  color?: string;
}

export interface BarChartOptions {
  title?: string;
  yLabel?: string;
  /** pixels; default 640 × 400 */
  width?: number;
  height?: number;
  /** where the axis starts (default 0); values below it are drawn as empty bars */
  floor?: number;
  /** digits of the printed values (default 3) */
  digits?: number;
}

// Tableau 10, as plot.ts
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** a step of 1, 2 or 5 × 10^k giving about `n` intervals over [0, span] */
function niceStep(span: number, n: number): number {
  const raw = span / Math.max(1, n);
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

/** The chart as a complete <svg> document. Throws when width/height are too small for axes and labels. */
export function barChartSVG(bars: readonly Bar[], opts: BarChartOptions = {}): string {
  const width = opts.width ?? 640, height = opts.height ?? 400, digits = opts.digits ?? 3;
  if (!(width >= 160 && height >= 120)) throw new Error(`barChartSVG: width/height too small (${width}×${height}); need at least 160×120`);
  const m = { left: 64, right: 16, top: opts.title ? 40 : 20, bottom: 44 };
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
  const floor = opts.floor ?? 0;
  const finite = bars.map((b) => b.value).filter(Number.isFinite);
  const highest = maxOf(finite);
  const top = highest > floor ? highest : floor + 1; // all bars at the floor (all-zero losses): an axis of one unit
  const step = niceStep(top - floor, Math.max(2, Math.round(ph / 60)));
  const ymax = floor + Math.ceil((top - floor) / step - 1e-9) * step;
  const y = (v: number): number => m.top + ph - ((Math.min(Math.max(v, floor), ymax) - floor) / (ymax - floor)) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600" fill="#222">${esc(opts.title)}</text>`);
  for (let v = floor; v <= ymax + step / 2; v += step) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${yy}" x2="${width - m.right}" y2="${yy}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#555">${+v.toPrecision(12)}</text>`);
  }
  if (opts.yLabel) out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(opts.yLabel)}</text>`);
  const slot = pw / Math.max(1, bars.length), bw = slot * 0.7;
  bars.forEach((b, i) => {
    const x = m.left + i * slot + (slot - bw) / 2, cx = (x + bw / 2).toFixed(1);
    const ok = Number.isFinite(b.value);
    if (ok) {
      const yt = y(b.value);
      out.push(`<rect x="${x.toFixed(1)}" y="${yt.toFixed(1)}" width="${bw.toFixed(1)}" height="${(m.top + ph - yt).toFixed(1)}" fill="${b.color ?? PALETTE[i % PALETTE.length]}"/>`);
    }
    const label = ok ? b.value.toFixed(digits) : 'n/a';
    out.push(`<text x="${cx}" y="${((ok ? y(b.value) : m.top + ph) - 5).toFixed(1)}" text-anchor="middle" fill="#222">${label}</text>`);
    out.push(`<text x="${cx}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${esc(b.label)}</text>`);
  });
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${width - m.right}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

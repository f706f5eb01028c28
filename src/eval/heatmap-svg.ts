// A labelled heatmap as SVG: one cell per matrix entry, shaded white → dark blue over [0, max], the value in
// each cell, row labels on the left and column labels on top (rotated). Made for attention matrices of a
// translation (rows = target tokens, columns = source tokens, as Bahdanau et al. 2015, fig. 3). Browser-safe.
//   heatmapSVG([[0.9, 0.1], [0.2, 0.8]], { rowLabels: ['I', 'love'], colLabels: ['我', '爱'], title: '我爱' })

export interface HeatmapSVGOptions {
  /** one per row (left side) */
  rowLabels?: readonly string[];
  /** one per column (top) */
  colLabels?: readonly string[];
  title?: string;
  /** axis names: below the title (columns) and rotated on the left (rows) */
  rowAxis?: string;
  colAxis?: string;
  /** the value that gets the darkest shade; default the matrix maximum (at least 1e-12) */
  max?: number;
  /** decimals of the printed values; default 2; −1 prints none */
  digits?: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** display width of a label in px at 12 px (CJK characters count double) */
const labelWidth = (s: string): number => [...s].reduce((w, ch) => w + (/[\u1100-\uffff]/.test(ch) ? 12 : 7), 0);

/**
 * The SVG text of a heatmap of `matrix` (rows × columns, every row the same length). Throws for a ragged
 * matrix, labels of the wrong count or a non-finite value.
 */
export function heatmapSVG(matrix: readonly (readonly number[])[], opts: HeatmapSVGOptions = {}): string {
  const R = matrix.length, C = R ? matrix[0].length : 0;
  matrix.forEach((row, i) => {
    if (row.length !== C) throw new Error(`heatmapSVG: row ${i} has ${row.length} values, row 0 has ${C}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new Error(`heatmapSVG: value [${i}][${j}] is ${v}`);
    });
  });
  const rl = opts.rowLabels ?? matrix.map((_, i) => String(i)), cl = opts.colLabels ?? Array.from({ length: C }, (_, j) => String(j));
  if (rl.length !== R) throw new Error(`heatmapSVG: ${rl.length} row labels for ${R} rows`);
  if (cl.length !== C) throw new Error(`heatmapSVG: ${cl.length} column labels for ${C} columns`);
  const max = opts.max ?? Math.max(1e-12, ...matrix.flat());
  const digits = opts.digits ?? 2, cell = 44;
  const left = 28 + Math.max(20, ...rl.map(labelWidth)), top = 56 + Math.max(20, ...cl.map(labelWidth));
  const W = Math.max(left + C * cell + 16, 40 + labelWidth(opts.title ?? '')), H = top + R * cell + 16;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title ?? '')}</text>`,
    `<text x="${left + (C * cell) / 2}" y="38" text-anchor="middle">${esc(opts.colAxis ?? '')}</text>`,
    `<text transform="translate(14 ${top + (R * cell) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.rowAxis ?? '')}</text>`,
  ];
  rl.forEach((l, i) => parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(l)}</text>`));
  cl.forEach((l, j) => parts.push(`<text transform="translate(${left + j * cell + cell / 2 + 4} ${top - 6}) rotate(-90)">${esc(l)}</text>`));
  matrix.forEach((row, i) => row.forEach((v, j) => {
    const t = Math.min(1, Math.max(0, v / max)), shade = (c: number, to: number): number => Math.round(c + (to - c) * t);
    const x = left + j * cell, y = top + i * cell;
    parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${shade(255, 8)},${shade(255, 48)},${shade(255, 107)})" stroke="#ddd"><title>${esc(rl[i])} ← ${esc(cl[j])}: ${v.toFixed(4)}</title></rect>`);
    if (digits >= 0) parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="10" fill="${t > 0.5 ? 'white' : 'black'}">${v.toFixed(digits)}</text>`);
  }));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

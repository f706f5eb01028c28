// Classification metrics over a fixed label set, as scikit-learn's classification_report and confusion_matrix
// define them: accuracy, per-class precision/recall/F1/support, their macro (unweighted), weighted (by
// support) and micro (pooled counts; equal to accuracy for single-label data) averages, and the confusion
// matrix — as numbers, as a printed table, and as a standalone SVG heatmap. Undefined ratios (a class never
// predicted or never present) are 0, scikit-learn's zero_division default. Browser-safe.
import type { PRF } from './metrics.js';

export interface ClassificationMetrics {
  labels: readonly string[];
  accuracy: number;
  /** per label, in `labels` order */
  perClass: PRF[];
  macro: PRF;
  weighted: PRF;
  micro: PRF;
  /** confusion[g][p]: items of gold label g predicted as p */
  confusion: number[][];
}

/**
 * Scores predictions against gold labels, both as indices into `labels`. Throws for mismatched lengths, no
 * items, or an index outside the label set (naming the item).
 * Example: gold [0, 0, 1], pred [0, 1, 1] over [a, b] → accuracy 2/3; a: P 1, R 0.5; b: P 0.5, R 1.
 */
export function classificationMetrics(gold: ArrayLike<number>, pred: ArrayLike<number>, labels: readonly string[]): ClassificationMetrics {
  if (gold.length !== pred.length) throw new Error(`classification metrics: ${pred.length} predictions for ${gold.length} gold labels`);
  if (gold.length === 0) throw new Error('classification metrics: no items to score (the accuracy of nothing is undefined)');
  const K = labels.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i], p = pred[i];
    if (!(Number.isInteger(g) && g >= 0 && g < K)) throw new Error(`classification metrics: gold label ${g} of item ${i} is outside the ${K} labels`);
    if (!(Number.isInteger(p) && p >= 0 && p < K)) throw new Error(`classification metrics: predicted label ${p} of item ${i} is outside the ${K} labels`);
    confusion[g][p]++;
  }
  const perClass = labels.map((_, k) => {
    const tp = confusion[k][k];
    const predicted = confusion.reduce((s, row) => s + row[k], 0), support = confusion[k].reduce((s, v) => s + v, 0);
    return prf(tp, predicted, support);
  });
  const correct = labels.reduce((s, _, k) => s + confusion[k][k], 0);
  const n = gold.length;
  const mean = (w: (r: PRF) => number, total: number): PRF => ({
    precision: perClass.reduce((s, r) => s + r.precision * w(r), 0) / total,
    recall: perClass.reduce((s, r) => s + r.recall * w(r), 0) / total,
    f1: perClass.reduce((s, r) => s + r.f1 * w(r), 0) / total,
    support: n,
  });
  return { labels, accuracy: correct / n, perClass, macro: mean(() => 1, K), weighted: mean((r) => r.support, n), micro: prf(correct, n, n), confusion };
}

function prf(tp: number, predicted: number, support: number): PRF {
  const precision = predicted > 0 ? tp / predicted : 0, recall = support > 0 ? tp / support : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support };
}

/** scikit-learn's classification_report layout: per class, then accuracy and the macro and weighted averages */
export function formatClassificationReport(m: ClassificationMetrics, digits = 3): string {
  const w = Math.max(12, ...m.labels.map((l) => l.length));
  const num = (x: number): string => x.toFixed(digits).padStart(9);
  const row = (name: string, r: PRF): string => `${name.padStart(w)} ${num(r.precision)} ${num(r.recall)} ${num(r.f1)} ${String(r.support).padStart(9)}`;
  return [
    `${''.padStart(w)} ${'precision'.padStart(9)} ${'recall'.padStart(9)} ${'f1-score'.padStart(9)} ${'support'.padStart(9)}`,
    '',
    ...m.labels.map((l, k) => row(l, m.perClass[k])),
    '',
    `${'accuracy'.padStart(w)} ${''.padStart(9)} ${''.padStart(9)} ${num(m.accuracy)} ${String(m.micro.support).padStart(9)}`,
    row('macro avg', m.macro),
    row('weighted avg', m.weighted),
  ].join('\n');
}

/** the confusion matrix as a text table: rows gold, columns predicted */
export function formatConfusionMatrix(m: ClassificationMetrics): string {
  const w = Math.max(6, ...m.labels.map((l) => l.length), ...m.confusion.flat().map((v) => String(v).length)) + 1;
  const head = `${'gold \\ pred'.padEnd(w + 4)}${m.labels.map((l) => l.padStart(w)).join('')}`;
  return [head, ...m.labels.map((l, g) => `${l.padEnd(w + 4)}${m.confusion[g].map((v) => String(v).padStart(w)).join('')}`)].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The confusion matrix as a complete SVG document: one cell per (gold, predicted) pair shaded by the share of
 * its gold row (white 0 → blue 1), with counts written in; rows gold, columns predicted.
 */
export function confusionMatrixSVG(m: ClassificationMetrics, title = 'confusion matrix'): string {
  const K = m.labels.length, cell = Math.max(28, Math.min(64, Math.floor(480 / Math.max(K, 1))));
  const labelW = 12 + 7 * Math.max(4, ...m.labels.map((l) => [...l].length));
  const left = labelW + 24, top = 48 + labelW, W = left + K * cell + 16, H = top + K * cell + 24;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<text x="${left + (K * cell) / 2}" y="38" text-anchor="middle">predicted</text>`,
    `<text transform="translate(14 ${top + (K * cell) / 2}) rotate(-90)" text-anchor="middle">gold</text>`,
  ];
  m.labels.forEach((l, k) => {
    parts.push(`<text x="${left - 6}" y="${top + k * cell + cell / 2 + 4}" text-anchor="end">${esc(l)}</text>`);
    parts.push(`<text transform="translate(${left + k * cell + cell / 2 + 4} ${top - 6}) rotate(-90)">${esc(l)}</text>`);
  });
  m.confusion.forEach((row, g) => {
    const total = row.reduce((s, v) => s + v, 0) || 1;
    row.forEach((v, p) => {
      const t = v / total, shade = (c: number, to: number): number => Math.round(c + (to - c) * t);
      const fill = `rgb(${shade(255, 8)},${shade(255, 69)},${shade(255, 148)})`;
      const x = left + p * cell, y = top + g * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ccc"><title>${esc(m.labels[g])} → ${esc(m.labels[p])}: ${v}</title></rect>`);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${t > 0.5 ? 'white' : 'black'}">${v}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

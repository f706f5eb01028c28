// The ladder's results as text: an aligned table for the terminal, a Markdown table, and a bar chart of the
// dev losses (src/eval/bar-chart.ts). Columns: model, size (parameters, or n-grams for count models), train
// time, steps, dev loss (nats/token), perplexity, bits per character.
import { barChartSVG } from '../eval/bar-chart.js';
import type { LadderRow } from './ladder.js';

const HEAD = ['model', 'size', 'train s', 'steps', 'dev loss', 'perplexity', 'bits/char'];

/** the cells of one row, as printed */
function cells(r: LadderRow): string[] {
  const size = r.sizeUnit === 'n-grams' ? `${r.size.toLocaleString('en')} n-grams` : `${r.size.toLocaleString('en')}`;
  return [r.name, size, r.trainSeconds.toFixed(1), String(r.steps), r.devLoss.toFixed(4), r.perplexity.toFixed(2), r.bitsPerChar.toFixed(3)];
}

/** an aligned plain-text table (first column left-aligned, numbers right-aligned) */
export function ladderTable(rows: readonly LadderRow[]): string {
  const all = [HEAD, ...rows.map(cells)];
  const w = HEAD.map((_, j) => Math.max(...all.map((r) => r[j].length)));
  const line = (r: string[]): string => r.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join('  ');
  return [line(HEAD), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map((r) => line(cells(r)))].join('\n');
}

/** how ladder.md names the settings (ladder.json keeps the keys); keys not here are printed as they are */
const SETTING_LABELS: Record<string, string> = {
  budgetSeconds: 'budget per model (s)', steps: 'steps per model', rungSteps: 'steps per rung (--rung-steps)',
  ngramOrders: 'n-gram orders', evalTokens: 'dev tokens scored', vocab: 'vocabulary',
};

/** a Markdown document: the settings as a list, the table, then each rung's model and training */
export function ladderMarkdown(rows: readonly LadderRow[], settings: Record<string, unknown>): string {
  const lines = ['# Model ladder', ''];
  for (const [k, v] of Object.entries(settings)) {
    if (v !== undefined) lines.push(`- ${SETTING_LABELS[k] ?? k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  lines.push('', `| ${HEAD.join(' | ')} |`, `| ${HEAD.map((_, j) => (j === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const r of rows) lines.push(`| ${cells(r).join(' | ')} |`);
  lines.push('', ...rows.map((r) => `- ${r.name}: ${r.describe}`));
  return lines.join('\n') + '\n';
}

/** a bar chart of the dev losses, the axis starting a little below the lowest */
export function ladderSVG(rows: readonly LadderRow[], title = 'model ladder: dev loss'): string {
  const losses = rows.map((r) => r.devLoss).filter(Number.isFinite);
  const floor = losses.length ? Math.max(0, Math.floor((Math.min(...losses) - 0.25) * 2) / 2) : 0;
  return barChartSVG(rows.map((r) => ({ label: r.name, value: r.devLoss })), { title, yLabel: 'dev loss (nats/token)', floor, width: 720 });
}

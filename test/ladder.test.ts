// The model ladder: every rung trains (or is fitted) on the same split and is scored on the whole dev part;
// with --steps every number but the timings is reproducible from the seed; the command writes the table,
// ladder.json, ladder.md and the bar chart. Tiny presets, a few steps, a small text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBackend } from '../src/backend/index.js';
import { demoCorpus } from '../src/data/corpus.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { LADDER_RUNGS, runLadder, rungStepsString, type LadderRow } from '../src/train/ladder.js';
import { ladderMarkdown, ladderSVG, ladderTable } from '../src/train/ladder-report.js';
import { barChartSVG } from '../src/eval/bar-chart.js';
import { ladderCommand, parseDuration, parseOrders, parseRungSteps } from '../src/cli/ladder.js';
import { UsageError } from '../src/cli/args.js';

ensureBackend();
const text = demoCorpus(1).slice(0, 12_000);
const tok = CharTokenizer.fromText(text);
const split = { train: 0.9, dev: 0.1, test: 0 };
const rungs = LADDER_RUNGS.map((r) => (r.name === 'n-gram' ? { ...r, orders: [2, 3, 4] } : r));
const withoutTime = (rows: LadderRow[]): unknown[] => rows.map(({ trainSeconds: _t, ...rest }) => rest);

test('every rung runs on the same split; --steps results are reproducible from the seed', async () => {
  const a = await runLadder({ text, tokenizer: tok, split, steps: 3, seed: 5, preset: 'tiny', rungs });
  assert.deepEqual(a.map((r) => r.arch), ['ngram', 'ngram', 'mlp', 'rnn', 'lstm', 'gru', 'llama']);
  assert.match(a[1].name, /^n-gram \(order [234]\)$/);
  assert.ok(a[1].devLoss <= a[0].devLoss, 'the best order is at least as good as the bigram');
  for (const r of a) {
    assert.ok(Number.isFinite(r.devLoss) && r.devLoss > 0, `${r.name}: ${r.devLoss}`);
    assert.ok(Math.abs(r.perplexity - Math.exp(r.devLoss)) < 1e-6 * r.perplexity);
    assert.ok(Math.abs(r.bitsPerChar - r.devLoss / Math.LN2) < 1e-9, 'a character tokenizer: bits per char = loss / ln 2');
    assert.equal(r.steps, r.arch === 'ngram' ? 0 : 3);
  }
  const seen: number[] = [];
  const b = await runLadder({ text, tokenizer: tok, split, steps: 3, seed: 5, preset: 'tiny', rungs: rungs.slice(2, 4), onRow: (rows) => seen.push(rows.length) });
  assert.deepEqual(withoutTime(b), withoutTime(a.slice(2, 4)));
  assert.deepEqual(seen, [1, 2], 'the rows so far after each rung (the CLI writes its files there)');
});

test('a time budget becomes a step count, and those counts reproduce the run', async () => {
  const [row] = await runLadder({ text, tokenizer: tok, split, budgetSeconds: 0.5, seed: 5, preset: 'tiny', rungs: [rungs[2]] });
  assert.ok(row.steps >= 1 && row.trainSeconds < 10, `${row.steps} steps in ${row.trainSeconds} s`);
  const again = await runLadder({ text, tokenizer: tok, split, rungSteps: parseRungSteps(rungStepsString([row])), seed: 5, preset: 'tiny', rungs: [rungs[2]] });
  assert.deepEqual(withoutTime(again), withoutTime([row]));
  assert.equal(rungStepsString([row]), `MLP=${row.steps}`);
  assert.deepEqual(parseRungSteps('mlp=40, GPT=7'), { MLP: 40, GPT: 7 });
  assert.deepEqual(parseRungSteps('gpt-2=9'), { 'GPT-2': 9 }, 'the optional GPT-2-block rung takes steps too');
  assert.throws(() => parseRungSteps('bigram=3'), /--rung-steps: "bigram=3" must be MODEL=STEPS/);
  assert.throws(() => parseRungSteps('MLP=0'), /STEPS ≥ 1/);
  assert.deepEqual(parseOrders('2-4,6'), [2, 3, 4, 6]);
  assert.throws(() => parseOrders('0-3'), /--ngram-orders must be orders from 1 to 10/);
  assert.throws(() => parseOrders('5-3'), /--ngram-orders/);
});

test('the report: aligned table, Markdown, bar chart', () => {
  const rows: LadderRow[] = [
    { name: 'bigram', arch: 'ngram', describe: '', size: 1234, sizeUnit: 'n-grams', trainSeconds: 0.1, steps: 0, devLoss: 2.5, perplexity: Math.exp(2.5), bitsPerChar: 2.5 / Math.LN2 },
    { name: 'GPT', arch: 'gpt', describe: '', size: 800000, sizeUnit: 'parameters', trainSeconds: 20, steps: 400, devLoss: 1.9, perplexity: Math.exp(1.9), bitsPerChar: 1.9 / Math.LN2 },
  ];
  const t = ladderTable(rows).split('\n');
  assert.equal(t.length, 4);
  assert.equal(new Set(t.map((l) => l.length)).size, 1, 'every line equally wide');
  assert.match(t[3], /^GPT\s+800,000\s+20\.0\s+400\s+1\.9000\s+6\.69\s+2\.741$/);
  const md = ladderMarkdown(rows, { data: 'x.txt', steps: 3 });
  assert.match(md, /\| bigram \| 1,234 n-grams \| 0\.1 \| 0 \| 2\.5000 \| 12\.18 \| 3\.607 \|/);
  assert.match(md, /- data: x\.txt/);
  const svg = ladderSVG(rows);
  assert.match(svg, /^<svg [^>]*>/);
  assert.equal((svg.match(/<rect /g) ?? []).length, 3, 'background + two bars');
  const odd = barChartSVG([{ label: 'a<b', value: NaN }, { label: 'c', value: 1 }], { title: 'x & y' });
  assert.match(odd, /a&lt;b/);
  assert.match(odd, /x &amp; y/);
  assert.match(odd, />n\/a</);
  assert.throws(() => barChartSVG([], { width: 50 }), /too small/);
  // all bars at zero: an axis from 0 to 1, not gridlines all labelled 0
  const zeros = barChartSVG([{ label: 'a', value: 0 }, { label: 'b', value: 0 }]);
  const ticks = [...zeros.matchAll(/fill="#555">([^<]+)</g)].map((m) => m[1]);
  assert.equal(new Set(ticks).size, ticks.length, `distinct ticks: ${ticks.join(' ')}`);
  assert.ok(ticks.includes('0') && ticks.includes('1'));
});

test('gptlab ladder writes ladder.json, ladder.md and ladder.svg; bad flags get one line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-ladder-'));
  const data = path.join(dir, 'data.txt');
  fs.writeFileSync(data, text);
  const out = path.join(dir, 'out');
  let printed = '';
  const code = await ladderCommand(['--data', data, '--steps', '2', '--preset', 'tiny', '--only', 'bigram,mlp,gru,gpt-2', '--out', out, '--threads', '1'], (l) => (printed += l + '\n'));
  assert.equal(code, 0);
  const j = JSON.parse(fs.readFileSync(path.join(out, 'ladder.json'), 'utf8'));
  assert.deepEqual(j.rows.map((r: LadderRow) => r.name), ['bigram', 'MLP', 'GRU', 'GPT-2']);
  assert.equal(j.rows[3].arch, 'gpt', '--only GPT-2 adds the GPT-2-block transformer');
  assert.equal(j.settings.steps, 2);
  assert.equal(j.settings.rungSteps, 'MLP=2,GRU=2,GPT-2=2');
  assert.match(printed, /gptlab ladder … --preset tiny --seed 1337 --rung-steps MLP=2,GRU=2,GPT-2=2/);
  assert.match(printed, /model\s+size\s+train s\s+steps\s+dev loss\s+perplexity\s+bits\/char/);
  const md = fs.readFileSync(path.join(out, 'ladder.md'), 'utf8');
  assert.ok(md.includes('| GRU |'));
  assert.match(md, /- steps per rung \(--rung-steps\): MLP=2,GRU=2,GPT-2=2/, 'ladder.md names its settings in words');
  assert.match(md, /- GRU: GRU LM: .*; muon, lr 0\.01, batch 16/, 'ladder.md says how each rung trained');
  assert.ok(fs.readFileSync(path.join(out, 'ladder.svg'), 'utf8').startsWith('<svg'));
  await assert.rejects(ladderCommand(['--eval-tokens', '-1']), /--eval-tokens must be at least 0/);
  const one = path.join(dir, 'one.txt');
  fs.writeFileSync(one, 'a');
  await assert.rejects(ladderCommand(['--data', one, '--only', 'bigram', '--out', path.join(dir, 'one-out'), '--threads', '1'], () => {}), /one\.txt with --split 90\/10: ladder: the dev part has fewer than 2 tokens/);
  await assert.rejects(ladderCommand(['--only', 'transformer']), /--only: unknown rung "transformer"/);
  await assert.rejects(ladderCommand(['--only', 'Trigram,ngram,foo']), /--only: unknown rung "foo"/, 'ngram and trigram name the n-gram rung');
  await assert.rejects(ladderCommand(['--budget', 'soon']), /--budget must be a duration/);
  await assert.rejects(ladderCommand(['--budget', '0s']), /--budget must be a duration above 0/);
  await assert.rejects(ladderCommand(['--budget', '0.001']), /--budget 0\.001 is less than a second per model/);
  await assert.rejects(ladderCommand(['--budget', '5s', '--steps', '3']), /give --budget or --steps, not both/);
  await assert.rejects(ladderCommand(['--only', ' , ']), /--only names no rung/);
  await assert.rejects(ladderCommand(['--rung-steps', 'MLP=3,mlp=4']), /--rung-steps gives MLP twice/);
  await assert.rejects(ladderCommand(['--rung-steps', 'GPT=3', '--only', 'MLP']), /steps for GPT, which --only leaves out/);
  await assert.rejects(ladderCommand(['--data', data, '--out', data, '--steps', '1']), /--out .*data\.txt: holds the input/);
  await assert.rejects(ladderCommand(['--data', data, '--out', path.join(data, 'sub'), '--steps', '1']), /--out .*sub: its folder .*data\.txt is a file/, 'checked before training');
  await assert.rejects(ladderCommand(['--data', data, '--out', out, '--steps', '1', '--only', 'bigram']), /--out .*: exists and is not empty; .*--force/, 'earlier results are not replaced silently');
  const again = await ladderCommand(['--data', data, '--steps', '2', '--preset', 'tiny', '--rung-steps', 'MLP=2,GRU=2,GPT-2=2', '--only', 'bigram,mlp,gru,gpt-2', '--out', out, '--force', '--threads', '1'], () => {});
  assert.equal(again, 0);
  const all = path.join(dir, 'all');
  assert.equal(await ladderCommand(['--data', data, '--steps', '1', '--preset', 'tiny', '--rung-steps', 'GPT-2=1', '--out', all, '--threads', '1'], () => {}), 0);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(all, 'ladder.json'), 'utf8')).rows.map((r: LadderRow) => r.name).slice(-2), ['GPT', 'GPT-2'], 'without --only, --rung-steps GPT-2=N adds the optional rung');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'ladder.json'), 'utf8')).rows.map((r: LadderRow) => r.devLoss), j.rows.map((r: LadderRow) => r.devLoss), '--force reruns into the folder; the printed --rung-steps reproduce the run');
  // checked before any rung trains: a preset a model type lacks, a text too short for a block
  let early = '';
  await assert.rejects(ladderCommand(['--data', data, '--preset', 'huge', '--steps', '1', '--out', out, '--force'], (l) => (early += l + '\n')), /ladder: --preset huge is not a preset of MLP, RNN, LSTM, GRU, GPT \(every rung has: tiny, cpu\)/);
  fs.writeFileSync(path.join(dir, 'short.txt'), 'to be or not to be');
  await assert.rejects(ladderCommand(['--data', path.join(dir, 'short.txt'), '--steps', '1', '--out', out, '--force', '--split', '50/50'], (l) => (early += l + '\n')), /ladder: MLP: the train part has 9 tokens, too few for its block size 64; use more text, or --preset tiny/);
  // with --preset tiny given, the advice is only more text
  await assert.rejects(ladderCommand(['--data', path.join(dir, 'short.txt'), '--steps', '1', '--out', out, '--force', '--split', '50/50', '--preset', 'tiny'], (l) => (early += l + '\n')), /too few for its block size \d+; use more text$/);
  assert.doesNotMatch(early, /bigram: dev loss/, 'nothing trains before the checks');
  await assert.rejects(ladderCommand(['--data', data, '--rung-steps', '', '--out', out, '--force']), /ladder: --rung-steps is empty/);
  await assert.rejects(ladderCommand(['--data', data, '--only', 'bigram', '--ngram-orders', '2-6', '--steps', '1', '--out', out, '--force']), /--ngram-orders sets the n-gram rung, which --only leaves out/);
  assert.equal(parseDuration('2m'), 120);
  assert.equal(parseDuration('90'), 90);
  assert.equal(parseDuration('1.5h'), 5400);
  assert.equal(parseDuration('168h'), 7 * 24 * 3600);
  await assert.rejects(ladderCommand(['--data', data, '--split', '100/0', '--steps', '1', '--out', out, '--force']), (e: Error) => e instanceof UsageError && /--split 100\/0 leaves no dev part/.test(e.message));
  assert.throws(() => parseDuration('99999999999999h'), /ladder: --budget 99999999999999h is more than a week per model \(604800 s\), the most it takes/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lossCurveSVG, niceTicks } from '../src/eval/plot.js';

// A minimal well-formedness check: every tag is closed in order and attributes are quoted. Enough to catch
// broken output without an XML parser dependency.
function assertWellFormed(svg: string) {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(svg))) {
    assert.ok(!svg.slice(last, m.index).includes('<'), `stray '<' near ${svg.slice(last, m.index + 20)}`);
    last = re.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `mismatched </${name}>`);
    else if (!selfClose) stack.push(name);
  }
  assert.ok(!svg.slice(last).includes('<'), 'unparsed tag at the end');
  assert.deepEqual(stack, []);
}

const curve = (n: number, f: (i: number) => number): [number, number][] => Array.from({ length: n }, (_, i) => [i * 10, f(i)]);

test('lossCurveSVG: a standalone SVG with one path per series, legend, labels and ticks', () => {
  const svg = lossCurveSVG(
    [
      { name: 'train', points: curve(100, (i) => 4.2 * Math.exp(-i / 30) + 1.2) },
      { name: 'dev <held-out>', points: curve(10, (i) => 4.2 * Math.exp(-i / 3) + 1.4) },
    ],
    { title: 'char GPT & friends', xLabel: 'step', yLabel: 'loss', width: 500, height: 300 },
  );
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.includes('width="500"') && svg.includes('viewBox="0 0 500 300"'));
  assertWellFormed(svg);
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.ok(svg.includes('char GPT &amp; friends'));
  assert.ok(svg.includes('dev &lt;held-out&gt;'));
  assert.ok(svg.includes('>step<') && svg.includes('>loss<'));
  // two distinct colours
  const colours = [...svg.matchAll(/<path d="[^"]*" stroke="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(colours).size, 2);
  // path coordinates are all inside the canvas
  for (const m of svg.matchAll(/<path d="([^"]*)"/g)) {
    const nums = m[1].match(/-?\d+(\.\d+)?/g)!.map(Number);
    for (const v of nums) assert.ok(v >= 0 && v <= 500, `coordinate ${v}`);
  }
  // a y tick label for a nice value
  assert.ok(/>\s*2\.0\s*</.test(svg) || />\s*2\s*</.test(svg), 'expected a tick at 2');
});

test('lossCurveSVG: log scale, gaps, single points, empty input', () => {
  const svg = lossCurveSVG(
    [
      { name: 'loss', points: [[0, 100], [1, 10], [2, NaN], [3, 1], [4, 0.1], [5, -1]] },
      { name: 'one', points: [[2, 5]] },
    ],
    { logY: true },
  );
  assertWellFormed(svg);
  // NaN and y ≤ 0 break the line: two sub-paths
  const d = svg.match(/<path d="([^"]*)"/)![1];
  assert.equal((d.match(/M/g) ?? []).length, 2);
  assert.ok(svg.includes('<circle'));
  for (const label of ['>0.1<', '>1<', '>10<', '>100<']) assert.ok(svg.includes(label), `log tick ${label}`);
  const empty = lossCurveSVG([]);
  assertWellFormed(empty);
  assert.ok(empty.includes('no data'));
  assertWellFormed(lossCurveSVG([{ name: 'flat', points: [[0, 2], [1, 2]] }]));
  assert.throws(() => lossCurveSVG([], { width: 10 }), /too small/);
});

test('niceTicks picks 1-2-5 steps and large steps use k units', () => {
  assert.deepEqual(niceTicks(0.13, 4.2, 5), { ticks: [0, 1, 2, 3, 4, 5], step: 1 });
  assert.deepEqual(niceTicks(0, 1, 5).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  const svg = lossCurveSVG([{ name: 'x', points: [[0, 1], [20000, 2]] }]);
  assert.ok(svg.includes('>10k<') || svg.includes('>20k<'));
});

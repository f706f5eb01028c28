// The progress bar: plain lines when not on a terminal, an ETA from the step rate that pauses (evaluations,
// samples) do not inflate, and redraws in place on a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar } from '../src/train/progress.node.js';

function fakeStream(tty: boolean): { write(s: string): boolean; isTTY: boolean; columns: number; out: string } {
  return { out: '', isTTY: tty, columns: 100, write(s: string) { this.out += s; return true; } };
}

test('non-TTY: a plain line every N steps, the final line with the total time', () => {
  let now = 0;
  const s = fakeStream(false);
  const bar = new ProgressBar({ stream: s, label: 'train', everySteps: 10, everySeconds: 1e9, now: () => now });
  for (let step = 1; step <= 30; step++) {
    now += 100;
    bar.update({ step, total: 30, loss: 2.5 - step / 100, tokensPerSec: 7000 });
  }
  bar.done();
  const lines = s.out.trim().split('\n');
  assert.ok(lines.length >= 3 && lines.length <= 5, s.out);
  assert.match(lines[0], /^train\s+1\/30/);
  assert.match(lines.at(-1)!, /30\/30\s+100%.*took/);
  assert.ok(!s.out.includes('\r'));
});

test("'took' counts from the bar's start, the first step included (a one-step run of 45 s took 45s)", () => {
  let now = 0;
  const s = fakeStream(false);
  const bar = new ProgressBar({ stream: s, label: 'seq2seq', now: () => now });
  now += 45_000;
  bar.update({ step: 1, total: 1 });
  bar.done();
  assert.match(s.out, /1\/1\s+100%.*took 45s/);
});

test('ETA follows the step rate and ignores pauses', () => {
  let now = 0;
  const bar = new ProgressBar({ stream: fakeStream(false), now: () => now });
  for (let step = 1; step <= 50; step++) {
    now += 100; // 0.1 s per step
    bar.update({ step, total: 100 });
  }
  const eta = (): number => {
    const m = /ETA (\d+)s/.exec(bar.render({ step: 50, total: 100 }, 0));
    return m ? Number(m[1]) : NaN;
  };
  assert.equal(eta(), 5);
  bar.pause();
  now += 60_000; // a one-minute evaluation
  for (let step = 51; step <= 60; step++) {
    now += 100;
    bar.update({ step, total: 100 });
  }
  assert.equal(eta(), 5, 'the pause did not count as training time');
});

test('TTY: redraws one line in place and logs above it', () => {
  let now = 0;
  const s = fakeStream(true);
  const bar = new ProgressBar({ stream: s, redrawMs: 0, now: () => now });
  bar.update({ step: 1, total: 10, loss: 3 });
  now += 500;
  bar.update({ step: 2, total: 10, loss: 2.9 });
  bar.log('step 2: dev loss 2.95');
  bar.done();
  assert.match(s.out, /\r/);
  assert.match(s.out, /step 2: dev loss 2\.95\n/);
  assert.match(s.out, /\[[█▏▎▍▌▋▊▉ ]+\]/u);
});

// Reward functions for RL with verifiable answers: the notes' three-question example, numbers by value,
// \boxed{} and the thought/solution template, and a reward function that throws or returns NaN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersMatch, checkedReward, exactMatchReward, extractBoxed, finalAnswer, formatReward, parseNumber, throwSite, type ModuleRewardFn } from '../src/align/rewards.js';

test("the notes' example: +1 on an exact match of the stripped answer, −1 otherwise", () => {
  const qa = [['2 + 2', '4'], ['5 * 3', '15'], ['10 / 2', '5']];
  const completions = [' 4 ', '15', 'five'];
  assert.deepEqual(qa.map(([, a], i) => exactMatchReward(completions[i], a)), [1, 1, -1]);
  assert.deepEqual(qa.map(([, a]) => exactMatchReward('I think 4', a)), [-1, -1, -1]);
});

test('numbers are compared by value', () => {
  assert.equal(parseNumber('63/400'), 0.1575);
  assert.ok(answersMatch('63/400', '0.1575'));
  assert.ok(answersMatch('1,000', '1000'));
  assert.ok(answersMatch('5.0', '5'));
  assert.ok(answersMatch('−3', '-3'));
  assert.ok(answersMatch('50%', '0.5'));
  assert.ok(!answersMatch('0.158', '63/400'));
  assert.equal(parseNumber('1/0'), null);
  assert.ok(answersMatch('Paris.', 'paris'));
});

test('\\boxed{} and the solution block give the final answer', () => {
  assert.equal(extractBoxed('so \\boxed{\\frac{1}{2}} and \\boxed{42}'), '42');
  assert.equal(extractBoxed('\\boxed{\\frac{1}{2}}'), '\\frac{1}{2}');
  const t = '<|begin_of_thought|>5 * 3 is 15<|end_of_thought|><|begin_of_solution|> 15 <|end_of_solution|>';
  assert.equal(finalAnswer(t), '15');
  assert.equal(exactMatchReward(t, '15'), 1);
  assert.equal(formatReward(t), 1);
  assert.equal(formatReward('15'), 0);
  assert.equal(formatReward(t + t), 0);
  assert.equal(formatReward('<|begin_of_solution|>1<|end_of_solution|>'), 0);
  assert.equal(exactMatchReward('The answer is \\boxed{0.1575}', '63/400'), 1);
  assert.equal(exactMatchReward('12+35=47.', '47', { extract: 'last-number', wrong: 0 }), 1);
});

test('a reward function that throws or returns NaN is one clear error', () => {
  const item = { prompt: [{ role: 'user' as const, content: 'q' }], answer: '1' };
  assert.throws(() => checkedReward(() => NaN, 'abc', item, 'r.mjs'), /r\.mjs returned NaN for completion "abc"; a reward must be a finite number/);
  assert.throws(() => checkedReward(() => 1e300, 'abc', item, 'r.mjs'), /r\.mjs returned 1e\+300 for completion "abc"; a reward must lie within ±1000000000000000 /);
  assert.equal(checkedReward(() => -1e15, 'abc', item, 'r.mjs'), -1e15);
  assert.throws(() => checkedReward(() => { throw new Error('boom'); }, 'abc', item, 'r.mjs'), /r\.mjs threw on completion "abc": boom/);
  assert.throws(() => checkedReward((() => '1') as never, 'abc', item), /returned "1"/);
});

test('a module\'s reward function that throws is named with the line:column in the module where it threw', () => {
  const item = { prompt: [{ role: 'user' as const, content: 'q' }], answer: '1' };
  const url = 'file:///tmp/x%20y/typeerr.mjs';
  const thrower = (stack: string): ModuleRewardFn => Object.assign(() => {
    const e = new TypeError("Cannot read properties of undefined (reading 'length')");
    e.stack = stack;
    throw e;
  }, { moduleUrl: url });
  const named = `TypeError: x\n    at helper (file:///tmp/x%20y/other.mjs:9:3)\n    at Module.reward (${url}:4:12)\n    at checkedReward (file:///app/rewards.js:1:1)`;
  assert.throws(() => checkedReward(thrower(named), '18+12=22.', item, '/tmp/x y/typeerr.mjs'), /^Error: \/tmp\/x y\/typeerr\.mjs:4:12 threw on completion "18\+12=22\.": Cannot read properties of undefined \(reading 'length'\)$/);
  assert.equal(throwSite({ stack: `Error\n    at ${url}:7:1` }, url), '7:1', 'an anonymous frame');
  assert.equal(throwSite({ stack: `Error\n    at f (${url}.bak:7:1)` }, url), null, 'another file');
  assert.equal(throwSite('a string', url), null);
  assert.equal(throwSite(null, url), null);
  assert.throws(() => checkedReward(thrower('TypeError: x\n    at native'), 'abc', item, 'r.mjs'), /^Error: r\.mjs threw on completion "abc"/, 'no frame in the module: the file alone');
});

test('a reward module that fails to load names the file, with the line (and column) where Node says the error lies', async () => {
  const { loadRewardModule, stackHeader } = await import('../src/align/reward-module.node.js');
  // Node ≥ 22 decorates an imported module's SyntaxError: location, source line, caret
  assert.deepEqual(stackHeader({ stack: 'file:///tmp/m.mjs:3\n  const x = ;\n            ^\n\nSyntaxError: Unexpected token \';\'\n    at compileSourceTextModule' }), { file: '/tmp/m.mjs', site: '3:13' });
  assert.deepEqual(stackHeader({ stack: 'file:///tmp/m.mjs:3\n\n\n\nSyntaxError: Unexpected end of input' }), { file: '/tmp/m.mjs', site: '3' });
  assert.equal(stackHeader({ stack: 'SyntaxError: Unexpected end of input\n    at compileSourceTextModule (node:internal/modules/esm/utils:346:16)' }), null);
  const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-reward-module-'));
  try {
    const file = (name: string, text: string): string => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));
    const syntax = file('syn.mjs', 'export default function (c) {\n  const x = ;\n}\n');
    await assert.rejects(loadRewardModule(syntax), (e: Error) => e.message.startsWith(`${syntax}:2`) && /: could not load the module: SyntaxError: Unexpected token ';'$/.test(e.message));
    const cut = file('cut.mjs', 'export default function (c) {\n  return c +\n');
    await assert.rejects(loadRewardModule(cut), (e: Error) => new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d+)*: could not load the module: SyntaxError: Unexpected end of input$`).test(e.message));
    const atImport = file('thr.mjs', 'const a = 1;\nthrow new Error("boom");\nexport default () => a;\n');
    await assert.rejects(loadRewardModule(atImport), { message: `${atImport}:2:7: could not load the module: boom` });
    const missing = file('dep.mjs', 'import x from "no-such-package-here";\nexport default () => x;\n');
    await assert.rejects(loadRewardModule(missing), (e: Error) => e.message.startsWith(`${missing}: could not load the module: Cannot find package 'no-such-package-here'`));
    const ok = await loadRewardModule(file('ok.mjs', 'export default (c) => c.length;\n'));
    assert.equal(ok('abc', { prompt: [], answer: '' }), 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Preference and verifiable-prompt data: parsing with file:line: field: problem and kept/skipped counts,
// rankings expanded into every pair, the rule-based reward's ordering and the built-in sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPreferenceData, parsePreferenceData, preferenceToJsonl, type PreferencePair } from '../src/data/preference.js';
import { candidateResponses, comparisonLabel, ramblingLength, ruleReward, ruleRewardParts } from '../src/data/rule-reward.js';
import { defaultArithmeticPrompts, parseVerifiableData } from '../src/data/verifiable.js';
import { defaultSftData, promptMessages, type SftDataset, type SftExample } from '../src/data/sft-default.js';
import { formatChatDataError } from '../src/data/chat.js';

test('pairs and rankings parse; a ranking of K gives K(K−1)/2 comparisons', () => {
  const text = [
    JSON.stringify({ prompt: 'What is 2 + 2?', chosen: '2+2=4.', rejected: '5' }),
    '',
    JSON.stringify({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], responses: ['Hello.', 'hello', 'x'] }),
    JSON.stringify({ prompt: 'Q', chosen: [{ role: 'assistant', content: 'A.' }], rejected: 'b' }),
  ].join('\n');
  const r = parsePreferenceData(text, 'p.jsonl');
  assert.deepEqual(r.summary, { kept: 3, skipped: 0, pairs: 5 });
  assert.deepEqual(r.pairs[1].prompt.map((m) => m.role), ['system', 'user']);
  assert.deepEqual(r.pairs.slice(1, 4).map((p) => [p.chosen, p.rejected]), [['Hello.', 'hello'], ['Hello.', 'x'], ['hello', 'x']]);
  assert.equal(r.pairs[4].chosen, 'A.');
  const back = parsePreferenceData(preferenceToJsonl(r.pairs), 'b.jsonl');
  assert.deepEqual(back.pairs, r.pairs);
});

test('bad records are skipped with file:line: field: problem', () => {
  const lines = [
    '{not json',
    JSON.stringify({ chosen: 'a', rejected: 'b' }),
    JSON.stringify({ prompt: 'q', chosen: 'a' }),
    JSON.stringify({ prompt: 'q', chosen: 'a', rejected: 'a' }),
    JSON.stringify({ prompt: 'q', responses: ['only one'] }),
    JSON.stringify({ prompt: 'q', chosen: 'a <|end|>', rejected: 'b' }),
    JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], chosen: 'a', rejected: 'b' }),
    JSON.stringify({ prompt: 'fine', chosen: 'yes', rejected: 'no' }),
  ];
  const r = parsePreferenceData(lines.join('\n'), 'p.jsonl');
  assert.deepEqual(r.summary, { kept: 1, skipped: 7, pairs: 1 });
  const msgs = r.errors.map(formatChatDataError);
  assert.match(msgs[0], /^p\.jsonl:1: not valid JSON \(/);
  assert.match(msgs[1], /^p\.jsonl:2: missing "prompt"/);
  assert.match(msgs[2], /^p\.jsonl:3: rejected: missing/);
  assert.match(msgs[3], /^p\.jsonl:4: rejected: repeats/);
  assert.match(msgs[4], /^p\.jsonl:5: responses: must be a list of at least 2/);
  assert.match(msgs[5], /^p\.jsonl:6: chosen: contains the special token <\|end\|>/);
  assert.match(msgs[6], /^p\.jsonl:7: messages: must end with a user message/);
});

test('the rule reward ranks right+formatted > right fragment > wrong formatted > wrong fragment', () => {
  const ex = defaultSftData({ seed: 1, trainSize: 50, heldOutSize: 5 }).train.find((e) => e.kind === 'add')!;
  const [a, b] = ex.messages[ex.messages.length - 1].content.split(/[+=.]/).map(Number);
  const good = `${a}+${b}=${a + b}.`, frag = `${a + b}`, wrongF = `${a}+${b}=${a + b + 1}.`, wrong = `${a + b + 1}`;
  const r = [good, frag, wrongF, wrong].map((s) => ruleReward(ex, s));
  assert.ok(r[0] > r[1] && r[1] > r[2] && r[2] > r[3], r.join(' '));
  assert.deepEqual(ruleRewardParts(ex, good), { correct: true, formatted: true, sentence: true, rambling: false, total: 1.75 });
  const fact = defaultSftData({ seed: 1, trainSize: 50, heldOutSize: 5 }).train.find((e) => e.kind === 'capital')!;
  const c = candidateResponses(fact, () => 0.3, ['Zed', fact.expected]);
  assert.equal(c[0], fact.messages[fact.messages.length - 1].content);
  assert.ok(c.length >= 4 && new Set(c).size === c.length);
});

/** the SFT example a built-in pair was made from (its prompt is the example's messages but the last) */
function exampleOf(p: PreferencePair, sft: SftDataset): SftExample {
  const key = JSON.stringify(p.prompt);
  const ex = [...sft.train, ...sft.heldOut].find((e) => JSON.stringify(promptMessages(e)) === key && e.kind === p.kind);
  assert.ok(ex, `no SFT example for ${key}`);
  return ex;
}

test('the built-in preference set: chosen always scores higher, dev held out by question', () => {
  const d = defaultPreferenceData({ seed: 1, trainSize: 300, heldOutSize: 40 });
  const sft = defaultSftData({ seed: 1, trainSize: 300, heldOutSize: 40 });
  assert.ok(d.train.length >= 750 && d.dev.length >= 40, `${d.train.length} / ${d.dev.length}`);
  for (const p of [...d.train, ...d.dev]) {
    const ex = exampleOf(p, sft);
    assert.ok(ruleReward(ex, p.chosen) > ruleReward(ex, p.rejected), `${p.chosen} / ${p.rejected}`);
  }
  const text = (p: PreferencePair): string => [...p.prompt.map((m) => m.content), p.chosen, p.rejected].join('\n');
  const trainText = d.train.map(text).join('\n');
  const taught = new Set(sft.train.map((e) => e.messages[e.messages.length - 1].content));
  for (const p of d.dev) {
    const ex = exampleOf(p, sft), answer = ex.messages[ex.messages.length - 1].content;
    if (p.kind === 'add' || p.kind === 'sub') {
      // a sum the SFT set teaches, that no training pair asks, shows or answers
      assert.ok(taught.has(answer), answer);
      assert.ok(!trainText.includes(answer), answer);
    } else assert.ok(sft.heldOut.includes(ex), 'a fact asked in the held-out phrasing');
  }
  assert.ok(d.dev.some((p) => p.kind === 'add' || p.kind === 'sub') && d.dev.some((p) => p.kind === 'capital' || p.kind === 'colour' || p.kind === 'opposite'));
  assert.deepEqual(defaultPreferenceData({ seed: 1, trainSize: 300, heldOutSize: 40 }), d);
});

test('the hedged candidate states the right value for every kind, so its label does not depend on the kind', () => {
  const sft = defaultSftData({ seed: 1, trainSize: 200, heldOutSize: 5 });
  for (const ex of sft.train) {
    const hedged = candidateResponses(ex, () => 0.5, ['7', 'zed']).find((c) => c.startsWith('I think'))!;
    assert.deepEqual(ruleRewardParts(ex, hedged), { correct: true, formatted: false, sentence: true, rambling: false, total: 1.25 }, hedged);
  }
  // the trailing hedge this replaced: right for a sum, wrong for a fact
  const sum = sft.train.find((e) => e.kind === 'add')!, fact = sft.train.find((e) => e.kind === 'opposite')!;
  assert.notEqual(ruleRewardParts(sum, `${sum.expected} i think`).correct, ruleRewardParts(fact, `${fact.expected} i think`).correct);
});

test('the rambling candidate rambles by the rule, with as few repeats as that needs (so pairs fit a 128-token context)', () => {
  for (const ex of defaultSftData({ seed: 1, trainSize: 200, heldOutSize: 5 }).train) {
    const ref = ex.messages[ex.messages.length - 1].content;
    const long = candidateResponses(ex, () => 0.5, ['7', 'zed']).filter((c) => ruleRewardParts(ex, c).rambling);
    assert.equal(long.length, 1);
    assert.ok(long[0].length - ref.length - 1 <= ramblingLength(ex), long[0]);
  }
});

test('comparison labels name what a pair teaches: the checks the chosen response wins, then those it wins over', () => {
  const ex = defaultSftData({ seed: 1, trainSize: 50, heldOutSize: 5 }).train.find((e) => e.kind === 'add')!;
  const [a, b] = ex.messages[ex.messages.length - 1].content.split(/[+=.]/).map(Number);
  const good = `${a}+${b}=${a + b}.`, frag = `${a + b}`, wrongF = `${a}+${b}=${a + b + 1}.`, wrong = `${a + b + 1}`;
  assert.equal(comparisonLabel(ex, good, wrongF), 'right answer');
  assert.equal(comparisonLabel(ex, wrongF, wrong), 'format + sentence');
  assert.equal(comparisonLabel(ex, frag, wrongF), 'right answer over format + sentence');
  assert.equal(comparisonLabel(ex, good, `${good} ${good} ${good} ${good}`), 'format + concise');
  assert.equal(comparisonLabel(ex, frag, `${good} ${good} ${good} ${good}`), 'concise over sentence');
  assert.equal(comparisonLabel(ex, frag, `${a + b} i think`), 'tie');
  const d = defaultPreferenceData({ seed: 1, trainSize: 100, heldOutSize: 20 });
  const sft = defaultSftData({ seed: 1, trainSize: 100, heldOutSize: 20 });
  d.dev.forEach((p) => assert.equal(p.comparison, comparisonLabel(exampleOf(p, sft), p.chosen, p.rejected)));
  assert.ok([...d.train, ...d.dev].every((p) => p.comparison && p.comparison !== 'tie'));
});

test('verifiable prompts parse, and bad ones name line and field', () => {
  const text = [
    JSON.stringify({ prompt: 'What is 2 + 2?', answer: '4' }),
    JSON.stringify({ messages: [{ role: 'user', content: 'What is 5 * 3?' }], answer: 15, kind: 'mul' }),
    JSON.stringify({ prompt: 'x' }),
    JSON.stringify({ prompt: '', answer: '1' }),
    JSON.stringify({ messages: [{ role: 'assistant', content: 'hi' }], answer: '1' }),
  ].join('\n');
  const r = parseVerifiableData(text, 'v.jsonl');
  assert.deepEqual(r.summary, { kept: 2, skipped: 3 });
  assert.deepEqual(r.prompts[1], { prompt: [{ role: 'user', content: 'What is 5 * 3?' }], answer: '15', kind: 'mul' });
  const msgs = r.errors.map(formatChatDataError);
  assert.match(msgs[0], /^v\.jsonl:3: answer: missing/);
  assert.match(msgs[1], /^v\.jsonl:4: prompt: is empty/);
  assert.match(msgs[2], /^v\.jsonl:5: messages: must end with a user message/);
  // 1e400 parses to Infinity: the answer must be a finite number
  const big = parseVerifiableData('{"prompt": "q", "answer": 1e400}\n{"prompt": "q", "answer": -1e999}\n', 'b.jsonl');
  assert.deepEqual(big.errors.map(formatChatDataError), [
    'b.jsonl:1: answer: must be a finite number, got Infinity (beyond ±1.8e308, the largest double)',
    'b.jsonl:2: answer: must be a finite number, got -Infinity (beyond ±1.8e308, the largest double)',
  ]);
});

test('a preference or prompt file holding one JSON array is told to be JSONL, on line 1 only', () => {
  const hint = ' (the file must be JSONL: one JSON object per line, not one JSON array)';
  const one = parsePreferenceData('[{"prompt": "q", "chosen": "a", "rejected": "b"}]\n', 'arr.json');
  assert.deepEqual(one.errors.map(formatChatDataError), [`arr.json:1: a record must be a JSON object${hint}`]);
  const v = parseVerifiableData('[{"prompt": "q", "answer": "1"}]', 'arr.json');
  assert.deepEqual(v.errors.map(formatChatDataError), [`arr.json:1: a record must be a JSON object${hint}`]);
  const pretty = parsePreferenceData('[\n  {"prompt": "q", "chosen": "a", "rejected": "b"},\n  [1]\n]\n', 'arr.json');
  assert.match(formatChatDataError(pretty.errors[0]), /^arr\.json:1: not valid JSON \(it ends before .*\) \(the file must be JSONL: one JSON object per line/);
  assert.ok(pretty.errors.slice(1).every((e) => !formatChatDataError(e).includes('must be JSONL')), 'other lines: no hint');
  assert.ok(!parsePreferenceData('{"prompt": "q"}\n', 'p.jsonl').errors.some((e) => e.message.includes('JSONL')), 'a JSONL file: no hint');
});

test('built-in arithmetic prompts have exact integer answers', () => {
  const ps = defaultArithmeticPrompts({ seed: 3, size: 200, kinds: ['add', 'sub', 'mul', 'div'] });
  assert.equal(ps.length, 200);
  for (const p of ps) {
    const [, a, op, b] = /What is (\d+) ([-+*/]) (\d+)\?/.exec(p.prompt[0].content)!;
    const v = op === '+' ? +a + +b : op === '-' ? +a - +b : op === '*' ? +a * +b : +a / +b;
    assert.equal(p.answer, String(v));
    assert.ok(Number.isInteger(v) && v >= 0);
  }
  assert.deepEqual(new Set(ps.map((p) => p.kind)), new Set(['add', 'sub', 'mul', 'div']));
});

test('a JSONL syntax error is one clean clause after FILE:LINE, without V8\'s raw excerpt of the line', async () => {
  const { notValidJson } = await import('../src/data/jsonl.js');
  const why = (t: string): string => {
    try {
      JSON.parse(t);
    } catch (e) {
      return notValidJson(e, t);
    }
    throw new Error(`${t} parsed`);
  };
  assert.equal(why('{"chosen": NaN, "rejected": "b"}'), 'not valid JSON (NaN is not a JSON value)');
  assert.equal(why('{"a": Infinity}'), 'not valid JSON (Infinity is not a JSON value)');
  assert.equal(why('{"a": 1'), "not valid JSON (expected ',' or '}' after property value at column 8)");
  assert.equal(why("{'a': 1}"), 'not valid JSON (strings and field names take double quotes, not single ones; column 2)');
  assert.equal(why('{"a": "x'), 'not valid JSON (it ends before the value is complete: a missing quote, bracket or brace?)');
  assert.equal(why('{"a": x}'), "not valid JSON (unexpected character 'x')");
  const r = parsePreferenceData('{"prompt": "q", "chosen": NaN, "rejected": "b"}\n', 'p.jsonl');
  assert.equal(formatChatDataError(r.errors[0]), 'p.jsonl:1: not valid JSON (NaN is not a JSON value)');
});

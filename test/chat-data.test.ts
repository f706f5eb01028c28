import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate, chatTemplate, formatChatDataError, parseChatData, SPECIAL_TOKENS } from '../src/data/chat.js';
import { defaultSftData, heldOutAccuracy, promptMessages, scoreAnswer, toJsonl, withBareAnswers } from '../src/data/sft-default.js';
import { CharTokenizer } from '../src/tokenizers/char.js';

test('JSONL: good records kept, every bad one reported with file, line and field', () => {
  const text = [
    JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }),
    '',
    JSON.stringify([{ role: 'system', content: 's' }, { role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }]),
    '{"messages": [{"role": "user", "content": "x"}',
    JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'bot', content: 'a' }] }),
    JSON.stringify({ messages: [{ role: 'user', content: 3 }, { role: 'assistant' }] }),
    JSON.stringify({ messages: [{ role: 'user', content: 'only a question' }] }),
    JSON.stringify({ msgs: [] }),
    JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a <|end|> b' }] }),
    JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'system', content: 'late' }, { role: 'assistant', content: 'a' }] }),
  ].join('\n');
  const r = parseChatData(text, 'chats.jsonl');
  assert.equal(r.conversations.length, 2);
  assert.deepEqual(r.summary, { kept: 2, skipped: 7 });
  assert.equal(r.conversations[1].messages[0].role, 'system');
  const where = r.errors.map((e) => `${e.line}:${e.field}`);
  assert.deepEqual(where, [
    '4:',
    '5:messages[1].role',
    '6:messages[0].content',
    '6:messages[1].content',
    '7:messages',
    '8:messages',
    '9:messages[1].content',
    '10:messages[1].role',
  ]);
  assert.ok(r.errors.every((e) => e.file === 'chats.jsonl'));
  assert.match(formatChatDataError(r.errors[1]), /^chats\.jsonl:5: messages\[1\]\.role: must be one of "system", "user", "assistant", got the string "bot"$/);
  assert.match(r.errors[3].message, /missing/);
});

test('JSON array: line numbers are where each record starts; a syntax error loses only its record', () => {
  const text = `[
  {"messages": [{"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"}]},
  {"messages": [{"role": "user", "content": "c"}, {"role": "assistant", "content": 5}]},
  {"messages": [{"role": "user", "content": "d, [e] {f}"}, {"role": "assistant", "content": "g \\" ]"}]},
  {"messages": [oops]}
]`;
  const r = parseChatData(text, 'chats.json');
  assert.deepEqual(r.summary, { kept: 2, skipped: 2 });
  assert.equal(r.conversations[1].messages[1].content, 'g " ]');
  assert.deepEqual(r.errors.map((e) => [e.line, e.field]), [[4, 'messages[1].content'], [6, '']], 'in file order');
});

test('JSON: a single conversation object, or a bare array of messages, is one conversation', () => {
  const one = parseChatData(JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }, null, 2), 'x.json');
  assert.equal(one.summary.kept, 1);
  const bare = parseChatData(JSON.stringify([{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }]), 'x.json');
  assert.equal(bare.summary.kept, 1);
  assert.equal(bare.conversations[0].messages.length, 2);
  const broken = parseChatData('[{"messages": []}', 'x.json');
  assert.equal(broken.summary.kept, 0);
  assert.match(broken.errors[0].message, /never closed/);
});

test('template renders turns and ends at the assistant marker for generation', () => {
  const msgs = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'Hi' },
    { role: 'assistant' as const, content: 'Hello.' },
    { role: 'user' as const, content: 'Bye' },
  ];
  assert.equal(
    chatTemplate.render(msgs, { addGenerationPrompt: true }),
    '<|system|>Be brief.<|end|>\n<|user|>Hi<|end|>\n<|assistant|>Hello.<|end|>\n<|user|>Bye<|end|>\n<|assistant|>',
  );
  assert.deepEqual([...SPECIAL_TOKENS], ['<|system|>', '<|user|>', '<|assistant|>', '<|end|>']);
});

test('loss mask covers exactly the assistant content and its end-of-turn token', () => {
  const msgs = [
    { role: 'user' as const, content: 'Hi' },
    { role: 'assistant' as const, content: 'Yo' },
    { role: 'user' as const, content: 'Q' },
    { role: 'assistant' as const, content: 'A!' },
  ];
  const tok = CharTokenizer.fromText('HiYoQA!\n', [...SPECIAL_TOKENS]);
  const { ids, mask } = chatTemplate.renderForTraining(msgs, (t) => tok.encode(t, { allowedSpecial: 'all' }));
  assert.equal(tok.decode(ids), chatTemplate.render(msgs));
  const learned = ids.filter((_, i) => mask[i]).map((id) => tok.idToToken(id)).join('');
  assert.equal(learned, 'Yo<|end|>A!<|end|>');
  assert.equal(ids.length, mask.length);
  const cut = chatTemplate.renderForTraining(msgs, (t) => tok.encode(t, { allowedSpecial: 'all' }), { maxTokens: 5 });
  assert.equal(cut.ids.length, 5);
  assert.equal(cut.mask.length, 5);
  // a tokenizer that does not reserve the specials is refused with a clear message
  assert.throws(() => new ChatTemplate().renderForTraining(msgs, (t) => [...t].map((c) => c.charCodeAt(0))), /must reserve one id/);
});

test('default SFT data: deterministic, plain ASCII, parseable, held-out split and scoring', () => {
  const a = defaultSftData({ seed: 7, trainSize: 300, heldOutSize: 50 });
  const b = defaultSftData({ seed: 7, trainSize: 300, heldOutSize: 50 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(defaultSftData({ seed: 8, trainSize: 300, heldOutSize: 50 }).train, a.train);
  const jsonl = toJsonl(a.train);
  assert.match(jsonl, /^[\x0a\x20-\x7e]*$/);
  const parsed = parseChatData(jsonl, 'sft.jsonl');
  assert.deepEqual(parsed.summary, { kept: 300, skipped: 0 });
  const chars = new Set(jsonl + toJsonl(a.heldOut));
  assert.ok(chars.size < 90, `charset of ${chars.size}`);

  // arithmetic held out by operand pair: no held-out question appears in training
  const key = (e: { kind: string; messages: { content: string }[] }) => e.messages[e.messages.length - 1].content;
  const trainAnswers = new Set(a.train.filter((e) => e.kind === 'add' || e.kind === 'sub').map(key));
  for (const e of a.heldOut.filter((e) => e.kind === 'add' || e.kind === 'sub')) assert.ok(!trainAnswers.has(key(e)), key(e));
  // facts held out by phrasing
  const trainQs = new Set(a.train.map((e) => e.messages[e.messages.length - 2].content));
  for (const e of a.heldOut.filter((e) => e.kind !== 'add' && e.kind !== 'sub')) assert.ok(!trainQs.has(e.messages[e.messages.length - 2].content));

  const add = { kind: 'add' as const, messages: [], expected: '47' };
  assert.equal(scoreAnswer(add, '12 + 35 = 47.'), true);
  assert.equal(scoreAnswer(add, '47'), true);
  assert.equal(scoreAnswer(add, '12 + 35 = 46.'), false);
  assert.equal(scoreAnswer(add, 'no idea'), false);
  const cap = { kind: 'capital' as const, messages: [], expected: 'Melto' };
  assert.equal(scoreAnswer(cap, 'The capital of Zorvia is Melto.'), true);
  assert.equal(scoreAnswer(cap, 'The capital of Zorvia is Brask.'), false);
  // perfect answers score 1, and the prompt stops before the answer
  assert.equal(heldOutAccuracy(a.heldOut, a.heldOut.map((e) => e.messages[e.messages.length - 1].content)), 1);
  assert.equal(promptMessages(a.heldOut[0]).at(-1)!.role, 'user');
});

test('bare-answer twins: a share of the conversations again, answered with the bare value, right after their originals', () => {
  const { train } = defaultSftData({ seed: 1, trainSize: 400, heldOutSize: 10 });
  assert.deepEqual(withBareAnswers(train, 0), train);
  const all = withBareAnswers(train, 1);
  assert.equal(all.length, 2 * train.length);
  for (let i = 0; i < train.length; i++) {
    const [orig, twin] = [all[2 * i], all[2 * i + 1]];
    assert.deepEqual(orig, train[i]);
    assert.deepEqual(twin.messages.slice(0, -1), orig.messages.slice(0, -1));
    assert.equal(twin.messages.at(-1)!.content, orig.expected);
    assert.ok(scoreAnswer(twin, twin.messages.at(-1)!.content), 'the bare value is a right answer');
  }
  assert.match(all.find((e, i) => i % 2 === 1 && e.kind === 'add')!.messages.at(-1)!.content, /^\d+$/, '"47", not "12+35=47."');
  const some = withBareAnswers(train, 0.3);
  assert.deepEqual(some, withBareAnswers(train, 0.3), 'deterministic');
  assert.deepEqual(some.filter((e) => train.includes(e)), train, 'every original kept, in order');
  assert.ok(some.length > train.length * 1.2 && some.length < train.length * 1.4, `${some.length - train.length} twins`);
  for (const bad of [-0.1, 1.5, NaN]) assert.throws(() => withBareAnswers(train, bad), /share must be in \[0, 1\]/);
});

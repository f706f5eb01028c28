// Streaming's per-token chunks come from a JSON template (serve/http-out.ts jsonTemplate): the bytes must be
// exactly JSON.stringify's for every piece a model can produce — quotes, backslashes, control characters,
// line separators, emoji, lone surrogates — and a template whose piece is missing or doubled is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonTemplate } from '../src/serve/http-out.js';

const PIECES = ['', 'a', ' said "hi"\n', 'back\\slash\t\r\b\f', '\u0000\u001f\u007f', '\u2028\u2029', '世界', '😀', '\ud83d', '\ude00x', '</script>', '{"content":"x"}'];

test('jsonTemplate: the same bytes as JSON.stringify for every piece, the piece anywhere in the event', () => {
  const base = { id: 'chatcmpl-1', created: 1700000000, model: 'm"odel\n', system_fingerprint: 'gptlab' };
  const chat = (piece: string): unknown => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }], usage: null });
  const text = (piece: string): unknown => ({ ...base, object: 'text_completion', choices: [{ index: 3, text: piece, logprobs: null, finish_reason: null }] });
  for (const event of [chat, text]) {
    const fill = jsonTemplate(event);
    for (const p of PIECES) assert.equal(fill(p), JSON.stringify(event(p)), JSON.stringify(p));
  }
});

test('jsonTemplate: an event without the piece, or with it twice, is refused', () => {
  assert.throws(() => jsonTemplate(() => ({ a: 1 })), /exactly once/);
  assert.throws(() => jsonTemplate((p) => ({ a: p, b: p })), /exactly once/);
});

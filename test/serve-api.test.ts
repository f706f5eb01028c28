// The OpenAI API surface beyond the basics (issue #9 §2, §5): every field type- and range-checked, fields this
// server does not implement refused by name, no bad request ever a 500, the key checked before anything else,
// HEAD like GET, and logprobs / logit_bias / penalties in both endpoints, streaming too.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { FakeEngine, fakeLogprob } from './helpers/fake-engine.js';

const KEY = 'k3y';
let engine: FakeEngine;
let server: RunningServer;
const logs: string[] = [];

before(async () => {
  engine = new FakeEngine({ contextLength: 2048 });
  server = await startServer({ engine, port: 0, apiKey: KEY, limits: { maxTokens: 500, maxN: 4 }, log: (l) => logs.push(l) });
});
after(() => server.close());

type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

async function call(path: string, init: RequestInit & { key?: string | null } = {}) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (init.key !== null) headers.Authorization = `Bearer ${init.key ?? KEY}`;
  const res = await fetch(server.url + path, { ...init, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

const chat = (extra: object) => call('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...extra }) });

test('malformed percent-encoding is a 400 (no stack trace logged); without a key it is a 401', async () => {
  const before = logs.length;
  const bad = await call('/v1/models/%ZZ');
  assert.equal(bad.status, 400);
  assert.equal((bad.json() as ErrorBody).error.code, 'invalid_url');
  assert.equal((await call('/v1/models/%ZZ', { key: null })).status, 401);
  assert.ok(!logs.slice(before).some((l) => /URIError|\n\s+at /.test(l)), logs.slice(before).join('\n'));
});

test('unknown /v1 paths need the key first (401), then 404', async () => {
  assert.equal((await call('/v1/secret/thing', { key: null })).status, 401);
  assert.equal((await call('/v1/secret/thing', { key: 'wrong' })).status, 401);
  assert.equal((await call('/v1/secret/thing')).status, 404);
  assert.equal((await call('/v1', { key: null })).status, 401);
});

test('HEAD on /health and /v1/models answers like GET, without a body', async () => {
  for (const path of ['/health', '/v1/models', '/v1/models/fake-model', '/']) {
    const head = await call(path, { method: 'HEAD' });
    const get = await call(path);
    assert.equal(head.status, 200, path);
    assert.equal(head.text, '', path);
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), path);
    assert.equal(head.headers.get('content-length'), get.headers.get('content-length'), path);
  }
  const post = await call('/v1/chat/completions', { method: 'HEAD' });
  assert.equal(post.status, 405);
});

test('top_p 0 is accepted (greedy)', async () => {
  const r = await chat({ top_p: 0, temperature: 1 });
  assert.equal(r.status, 200, r.text);
  assert.equal(engine.calls.at(-1)!.params.topP, 0);
});

test('fields this server does not implement are refused by name with unsupported_parameter', async () => {
  const cases: [object, string][] = [
    [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'],
    [{ tool_choice: 'auto' }, 'tool_choice'],
    [{ functions: [{ name: 'f' }] }, 'functions'],
    [{ function_call: 'auto' }, 'function_call'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
    [{ audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
    [{ modalities: ['text', 'audio'] }, 'modalities'],
    [{ messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] }, 'messages[0].tool_call_id'],
    [{ messages: [{ role: 'assistant', content: null, tool_calls: [] }] }, 'messages[0].tool_calls'],
  ];
  for (const [extra, param] of cases) {
    const r = await chat(extra);
    assert.equal(r.status, 400, JSON.stringify(extra));
    const e = (r.json() as ErrorBody).error;
    assert.equal(e.param, param, JSON.stringify(extra));
    assert.equal(e.code, 'unsupported_parameter', JSON.stringify(extra));
  }
  assert.equal((await chat({ response_format: { type: 'text' }, modalities: ['text'], store: false, user: 'u1', metadata: { a: 'b' } })).status, 200);
  const c = await call('/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'x', suffix: 'y' }) });
  assert.equal((c.json() as ErrorBody).error.code, 'unsupported_parameter');
  const bestOf = await call('/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'x', best_of: 3 }) });
  assert.equal((bestOf.json() as ErrorBody).error.param, 'best_of');
  const unknown = await chat({ temprature: 0.5 });
  assert.deepEqual([unknown.status, (unknown.json() as ErrorBody).error.param, (unknown.json() as ErrorBody).error.code], [400, 'temprature', 'unknown_parameter']);
});

test('every field is type- and range-checked, and the error names it', async () => {
  const cases: [object, string][] = [
    [{ temperature: 'hot' }, 'temperature'], [{ temperature: 2.5 }, 'temperature'], [{ temperature: -0.1 }, 'temperature'],
    [{ top_p: 1.5 }, 'top_p'], [{ top_p: -1 }, 'top_p'], [{ top_p: '0.9' }, 'top_p'],
    [{ max_tokens: 0 }, 'max_tokens'], [{ max_tokens: 1.5 }, 'max_tokens'], [{ max_tokens: 501 }, 'max_tokens'], [{ max_completion_tokens: -3 }, 'max_completion_tokens'],
    [{ n: 0 }, 'n'], [{ n: 5 }, 'n'], [{ n: 2.5 }, 'n'], [{ seed: 1.5 }, 'seed'], [{ seed: '7' }, 'seed'],
    [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'], [{ stop: [1] }, 'stop[0]'], [{ stop: 5 }, 'stop'],
    [{ presence_penalty: 2.5 }, 'presence_penalty'], [{ frequency_penalty: -3 }, 'frequency_penalty'], [{ frequency_penalty: 'x' }, 'frequency_penalty'],
    [{ logit_bias: [1] }, 'logit_bias'], [{ logit_bias: { abc: 1 } }, 'logit_bias'], [{ logit_bias: { '-1': 1 } }, 'logit_bias'],
    [{ logit_bias: { '5': 101 } }, 'logit_bias.5'], [{ logit_bias: { '5': '1' } }, 'logit_bias.5'],
    [{ logprobs: 'yes' }, 'logprobs'], [{ logprobs: true, top_logprobs: 21 }, 'top_logprobs'], [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ stream: 'true' }, 'stream'], [{ stream: true, stream_options: { include_usage: 'y' } }, 'stream_options.include_usage'],
    [{ stream_options: { include_usage: true } }, 'stream_options'], [{ user: 5 }, 'user'], [{ model: 5 }, 'model'],
    [{ top_k: -1 }, 'top_k'], [{ repetition_penalty: 0 }, 'repetition_penalty'], [{ store: 'no' }, 'store'],
    [{ messages: [{ role: 'user', content: 'x', name: 3 }] }, 'messages[0].name'], [{ messages: [{ role: 'user' }] }, 'messages[0].content'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content[0]'],
    [{ messages: 'hi' }, 'messages'], [{ messages: [] }, 'messages'],
  ];
  for (const [extra, param] of cases) {
    const r = await chat(extra);
    assert.equal(r.status, 400, `${JSON.stringify(extra)}: ${r.text}`);
    assert.equal((r.json() as ErrorBody).error.param, param, JSON.stringify(extra));
  }
  const proto = await call('/v1/chat/completions', { method: 'POST', body: '{"messages": [{"role": "user", "content": "x"}], "logit_bias": {"__proto__": 1}}' });
  assert.deepEqual([proto.status, (proto.json() as ErrorBody).error.param], [400, 'logit_bias']);
  const legacy: [object, string][] = [[{ prompt: 'x', logprobs: 6 }, 'logprobs'], [{ prompt: 'x', logprobs: true }, 'logprobs'], [{ prompt: 'x', echo: 1 }, 'echo'], [{ prompt: 5 }, 'prompt'], [{ prompt: 'x', logprobs: 2, echo: true }, 'logprobs']];
  for (const [body, param] of legacy) {
    const r = await call('/v1/completions', { method: 'POST', body: JSON.stringify(body) });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal((r.json() as ErrorBody).error.param, param, JSON.stringify(body));
  }
});

test('no request body, however odd, gets a 500', async () => {
  const values: unknown[] = [null, true, 0, -1, 1e308, 0.5, '', 'x', [], [null], {}, { a: 1 }, [{ role: 'user', content: 'x' }], '\u0000', { __proto__: null }];
  const fields = ['messages', 'prompt', 'temperature', 'top_p', 'n', 'max_tokens', 'stop', 'seed', 'logit_bias', 'logprobs', 'top_logprobs', 'stream', 'stream_options', 'response_format', 'echo', 'best_of', 'suffix', 'presence_penalty'];
  for (const path of ['/v1/chat/completions', '/v1/completions']) {
    for (const field of fields) {
      for (const v of values) {
        const base = path.endsWith('chat/completions') ? { messages: [{ role: 'user', content: 'x' }] } : { prompt: 'x' };
        const r = await call(path, { method: 'POST', body: JSON.stringify({ ...base, max_tokens: 3, [field]: v }) });
        assert.ok(r.status < 500, `${path} ${field}=${JSON.stringify(v)}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
  }
  for (const path of ['/v1/models/%', '/v1/models/%E0%A4%A', '/%ZZ', '/v1/chat/completions?x=%ZZ', '//v1/models']) {
    assert.ok((await call(path)).status < 500, path);
  }
});

test('chat logprobs: content[] with token, logprob, bytes and top_logprobs; the same through a stream', async () => {
  const r = await chat({ logprobs: true, top_logprobs: 3, seed: 2 });
  assert.equal(r.status, 200, r.text);
  const choice = r.json().choices[0];
  const content = choice.logprobs.content as { token: string; logprob: number; bytes: number[]; top_logprobs: { token: string; logprob: number; bytes: number[] }[] }[];
  assert.equal(content.map((t) => t.token).join(''), choice.message.content);
  content.forEach((t, i) => {
    const want = fakeLogprob(t.token, i + 1, 3);
    assert.deepEqual(t, { token: want.token, logprob: want.logprob, bytes: want.bytes, top_logprobs: want.top });
  });
  assert.equal(engine.calls.at(-1)!.params.topLogprobs, 3);
  // without logprobs: null
  assert.equal((await chat({})).json().choices[0].logprobs, null);

  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'stream it' }], stream: true, logprobs: true, top_logprobs: 1 });
  let text = '';
  const tokens: string[] = [];
  for await (const c of stream) {
    const ch = c.choices[0];
    text += ch?.delta.content ?? '';
    for (const t of ch?.logprobs?.content ?? []) tokens.push(t.token);
  }
  assert.equal(text, 'You said: stream it.');
  assert.equal(tokens.join(''), text);
});

test('legacy completions logprobs: tokens, token_logprobs, top_logprobs, text_offset; streaming too', async () => {
  const r = await call('/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'one two', logprobs: 2, max_tokens: 50 }) });
  assert.equal(r.status, 200, r.text);
  const c = r.json().choices[0];
  const lp = c.logprobs as { tokens: string[]; token_logprobs: number[]; top_logprobs: Record<string, number>[]; text_offset: number[] };
  assert.equal(lp.tokens.join(''), c.text);
  assert.equal(lp.token_logprobs.length, lp.tokens.length);
  assert.deepEqual(lp.text_offset, lp.tokens.map((_, i) => lp.tokens.slice(0, i).join('').length));
  assert.deepEqual(lp.top_logprobs[0], { [lp.tokens[0]]: lp.token_logprobs[0], a: lp.token_logprobs[0] - 1 });

  const s = await call('/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'one two', logprobs: 0, max_tokens: 50, stream: true }) });
  const chunks = s.text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
  const tokens: string[] = [];
  const offsets: number[] = [];
  let text = '';
  for (const ch of chunks) {
    text += ch.choices[0].text;
    if (ch.choices[0].logprobs) {
      tokens.push(...ch.choices[0].logprobs.tokens);
      offsets.push(...ch.choices[0].logprobs.text_offset);
    }
  }
  assert.equal(tokens.join(''), text);
  assert.deepEqual(offsets, tokens.map((_, i) => tokens.slice(0, i).join('').length));
});

test('logit_bias and the penalties reach the engine, in both endpoints', async () => {
  const r = await chat({ logit_bias: { '65': 100, '66': -100, '0': 0.5 }, presence_penalty: 0.5, frequency_penalty: -1.5 });
  assert.equal(r.status, 200, r.text);
  const p = engine.calls.at(-1)!.params;
  assert.deepEqual(p.logitBias, { 65: 100, 66: -100, 0: 0.5 });
  assert.equal(p.presencePenalty, 0.5);
  assert.equal(p.frequencyPenalty, -1.5);
  const c = await call('/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'x', logit_bias: { '7': -2 }, frequency_penalty: 2 }) });
  assert.equal(c.status, 200, c.text);
  assert.deepEqual(engine.calls.at(-1)!.params.logitBias, { 7: -2 });
  // an id outside the vocabulary is named
  const small = new FakeEngine();
  Object.defineProperty(small, 'vocabSize', { value: 100 });
  const s = await startServer({ engine: small, port: 0 });
  try {
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], logit_bias: { '100': 1 } }) });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as ErrorBody).error.message, /from 0 to 99/);
  } finally {
    await s.close();
  }
});

test('startServer refuses an empty API key and limits that are not positive integers', async () => {
  await assert.rejects(startServer({ engine, port: 0, apiKey: '' }), /API key must not be empty/);
  await assert.rejects(startServer({ engine, port: 0, limits: { maxBodyBytes: 0 } }), /maxBodyBytes/);
  await assert.rejects(startServer({ engine, port: 0, limits: { maxQueue: -1 } }), /maxQueue/);
  await assert.rejects(startServer({ engine, port: 0, limits: { maxN: 1.5 } }), /maxN/);
});

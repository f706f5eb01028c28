import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { FakeEngine } from './helpers/fake-engine.js';

const KEY = 'test-key';
let engine: FakeEngine;
let server: RunningServer;
let client: OpenAI;

before(async () => {
  engine = new FakeEngine({ contextLength: 2048 });
  server = await startServer({ engine, port: 0, apiKey: KEY, limits: { maxBodyBytes: 64 * 1024, maxTokens: 500, maxQueue: 4 }, log: process.env.SERVE_LOG ? (l) => console.error(l) : undefined });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
});
after(() => server.close());

async function post(path: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } } };
}

test('binds to 127.0.0.1 by default', () => {
  assert.equal(server.host, '127.0.0.1');
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('models list and one model through the openai client', async () => {
  const list = await client.models.list();
  assert.deepEqual(list.data.map((m) => m.id), ['fake-model']);
  const m = await client.models.retrieve('fake-model');
  assert.equal(m.owned_by, 'gptlab');
  await assert.rejects(client.models.retrieve('nope'), (e: unknown) => e instanceof OpenAI.NotFoundError);
});

test('chat completion, non-streaming, with usage', async () => {
  const r = await client.chat.completions.create({
    model: 'whatever',
    messages: [{ role: 'system', content: 'Be nice.' }, { role: 'user', content: 'hello there' }],
    temperature: 0.7,
    top_p: 0.9,
    max_tokens: 100,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'fake-model');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'You said: hello there.');
  assert.equal(r.choices[0].finish_reason, 'stop');
  const prompt = engine.renderChat([{ role: 'system', content: 'Be nice.' }, { role: 'user', content: 'hello there' }]);
  assert.deepEqual(r.usage, { prompt_tokens: prompt.length, completion_tokens: 22, total_tokens: prompt.length + 22 });
  const call = engine.calls.at(-1)!;
  assert.equal(call.params.temperature, 0.7);
  assert.equal(call.params.topP, 0.9);
  assert.equal(call.params.maxTokens, 100);
});

test('max_tokens cuts with finish_reason length; stop strings end early and are not returned', async () => {
  const long = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'say something long' }], max_tokens: 17 });
  assert.equal(long.choices[0].finish_reason, 'length');
  assert.equal(long.choices[0].message.content, 'lorem ipsum dolor');
  assert.equal(long.usage!.completion_tokens, 17);
  const stopped = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'abc:def' }], stop: [':', 'zzz'] });
  assert.equal(stopped.choices[0].message.content, 'You said');
  assert.equal(stopped.choices[0].finish_reason, 'stop');
});

test('n > 1 with a seed gives n distinct reproducible choices; usage counts the prompt once', async () => {
  const req = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }], n: 3, seed: 10 };
  const r = await client.chat.completions.create(req);
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
  assert.deepEqual(r.choices.map((c) => c.message.content), ['[seed 10] You said: hi.', '[seed 11] You said: hi.', '[seed 12] You said: hi.']);
  const promptLen = engine.renderChat(req.messages).length;
  assert.equal(r.usage!.prompt_tokens, promptLen);
  assert.equal(r.usage!.completion_tokens, 3 * '[seed 10] You said: hi.'.length);
  const again = await client.chat.completions.create(req);
  assert.deepEqual(again.choices.map((c) => c.message.content), r.choices.map((c) => c.message.content));
});

test('streaming: chunks concatenate to the reply, end with a finish chunk, usage when asked', async () => {
  const stream = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'stream me' }],
    stream: true,
    stream_options: { include_usage: true },
    n: 2,
    seed: 1,
  });
  const text = ['', ''];
  const finish: (string | null)[] = [null, null];
  let usage = null;
  let chunks = 0;
  for await (const c of stream) {
    assert.equal(c.object, 'chat.completion.chunk');
    chunks++;
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) {
      text[ch.index] += ch.delta.content ?? '';
      if (ch.finish_reason) finish[ch.index] = ch.finish_reason;
    }
  }
  assert.deepEqual(text, ['[seed 1] You said: stream me.', '[seed 2] You said: stream me.']);
  assert.deepEqual(finish, ['stop', 'stop']);
  assert.ok(chunks > 20, `${chunks} chunks`);
  assert.deepEqual(usage, { prompt_tokens: engine.renderChat([{ role: 'user', content: 'stream me' }]).length, completion_tokens: 58, total_tokens: usage!.prompt_tokens + 58 });
});

test('raw SSE framing ends with [DONE]', async () => {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream: true }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
  const body = await res.text();
  const events = body.split('\n\n').filter(Boolean);
  assert.ok(events.every((e) => e.startsWith('data: ')));
  assert.equal(events.at(-1), 'data: [DONE]');
  const first = JSON.parse(events[0].slice(6));
  assert.deepEqual(first.choices[0].delta, { role: 'assistant', content: '' });
});

test('legacy completions: prompt, echo, stream', async () => {
  const r = await client.completions.create({ model: 'm', prompt: 'once upon a time', max_tokens: 50 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].text, ' and then time.');
  assert.equal(r.usage!.prompt_tokens, 'once upon a time'.length);
  const e = await client.completions.create({ model: 'm', prompt: ['a b', 'c d'], echo: true, max_tokens: 50 });
  assert.deepEqual(e.choices.map((c) => c.text), ['a b and then b.', 'c d and then d.']);
  assert.equal(e.usage!.prompt_tokens, 6);
  const s = await client.completions.create({ model: 'm', prompt: 'hello world', stream: true });
  let text = '';
  for await (const c of s) text += c.choices[0]?.text ?? '';
  assert.equal(text, ' and then world.');
});

test('errors: OpenAI JSON shape and status codes', async () => {
  const bad = await post('/v1/chat/completions', '{"messages": [');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.type, 'invalid_request_error');
  assert.equal(bad.body.error.code, 'invalid_json');
  assert.ok('param' in bad.body.error);

  const wrongType = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], temperature: 'hot' });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.body.error.param, 'temperature');
  const badRole = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }, { role: 'robot', content: 'y' }] });
  assert.equal(badRole.body.error.param, 'messages[1].role');
  const noMessages = await post('/v1/chat/completions', { model: 'm' });
  assert.equal(noMessages.body.error.param, 'messages');
  const notObject = await post('/v1/chat/completions', '[1,2]');
  assert.equal(notObject.status, 400);

  const tooMany = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_tokens: 501 });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body.error.param, 'max_tokens');
  const huge = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] });
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error.code, 'request_too_large');
  // without a Content-Length the limit is enforced while reading
  const chunked = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` },
    body: new ReadableStream({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new TextEncoder().encode('x'.repeat(32 * 1024)));
        c.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  assert.equal(chunked.status, 413);
  const longPrompt = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x'.repeat(3000) }] });
  assert.equal(longPrompt.status, 400);
  assert.equal(longPrompt.body.error.code, 'context_length_exceeded');

  const unknown = await post('/v1/nothing', {});
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.type, 'invalid_request_error');
  const method = await fetch(`${server.url}/v1/chat/completions`, { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(method.status, 405);
  assert.equal(method.headers.get('allow'), 'POST');
  assert.equal(((await method.json()) as { error: { code: string } }).error.code, 'method_not_allowed');

  const noKey = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] }, { Authorization: '' });
  assert.equal(noKey.status, 401);
  const wrongKey = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] }, { Authorization: 'Bearer nope' });
  assert.equal(wrongKey.status, 401);
  assert.equal(wrongKey.body.error.code, 'invalid_api_key');
  const viaClient = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(viaClient.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  // the page and health need no key
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});

test('concurrent requests are served one at a time and do not interleave', async () => {
  engine.maxActive = 0;
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
  const results = await Promise.all(
    words.map(async (w) => {
      const s = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: w }], stream: true });
      let t = '';
      for await (const c of s) t += c.choices[0]?.delta.content ?? '';
      return t;
    }),
  );
  assert.deepEqual(results, words.map((w) => `You said: ${w}.`));
  assert.equal(engine.maxActive, 1);
});

test('a busy server still answers /v1/models and /health, and a full queue gives 429', async () => {
  engine.tokenDelayMs = 2;
  const ac = new AbortController();
  const slow = Array.from({ length: 5 }, () =>
    client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'long please' }], max_tokens: 400 }, { signal: ac.signal }).catch(() => null),
  );
  while (server.queue.pending < 4) await new Promise((r) => setTimeout(r, 5));
  const health = (await (await fetch(`${server.url}/health`)).json()) as { busy: boolean; queued: number };
  assert.deepEqual([health.busy, health.queued], [true, 4]);
  assert.equal((await client.models.list()).data.length, 1);
  await assert.rejects(
    client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) => e instanceof OpenAI.RateLimitError && /busy/.test((e as Error).message),
  );
  ac.abort();
  await Promise.all(slow);
  while (server.queue.busy || server.queue.pending) await new Promise((r) => setTimeout(r, 5));
  engine.tokenDelayMs = 0;
});

test('a client that disconnects mid-stream stops its generation; a queued one is dropped unstarted', async (t) => {
  engine.tokenDelayMs = 2;
  t.after(() => (engine.tokenDelayMs = 0));
  const before = engine.calls.length;
  const ac = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'm', messages: [{ role: 'user', content: 'a long story' }], stream: true, max_tokens: 500 },
    { signal: ac.signal },
  );
  // a second request queued behind it, then abandoned before it starts
  const ac2 = new AbortController();
  const queued = client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'never run' }] }, { signal: ac2.signal }).catch((e) => e);
  let got = 0;
  // depending on timing the client's iterator either ends quietly or throws an abort error
  try {
    for await (const c of stream) {
      got += (c.choices[0]?.delta.content ?? '').length;
      if (got >= 20) {
        ac2.abort();
        ac.abort();
      }
    }
  } catch (e) {
    assert.match(String(e), /abort/i);
  }
  assert.ok((await queued) instanceof Error);
  const call = engine.calls[before];
  for (let i = 0; i < 200 && engine.active > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(call.aborted, true, 'the engine saw the abort');
  assert.ok(call.text.length < 200, `stopped after ${call.text.length} tokens`);
  assert.ok(!engine.calls.slice(before).some((c) => c.prompt.includes('never run')), 'queued request was never started');
  // the server is healthy afterwards
  const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'still there?' }] });
  assert.equal(r.choices[0].message.content, 'You said: still there?.');
});

test('the web page is served at / without a key; a missing page gives a clear message', async () => {
  const res = await fetch(server.url + '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/html/);
  assert.match(await res.text(), /<title>gptlab chat<\/title>/);
  const lines: string[] = [];
  const other = await startServer({ engine, port: 0, chatPage: '/nonexistent/chat.html', log: (l) => lines.push(l) });
  try {
    const r = await fetch(other.url + '/');
    assert.equal(r.status, 404);
    assert.match(await r.text(), /web chat page is missing: cannot read \/nonexistent\/chat\.html/);
    assert.match(lines[0], /missing/);
  } finally {
    await other.close();
  }
});

test('an engine failure becomes a 500 server_error, or an error event mid-stream', async () => {
  const broken = new FakeEngine();
  broken.generate = async (_p, _params, onText) => {
    onText('partial');
    throw new Error('the model exploded');
  };
  const logs: string[] = [];
  const s = await startServer({ engine: broken, port: 0, log: (l) => logs.push(l) });
  try {
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.InternalServerError);
      assert.match((e as Error).message, /the model exploded/);
      return true;
    });
    const stream = await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const ch of stream) text += ch.choices[0]?.delta.content ?? '';
      })(),
      /the model exploded/,
    );
    assert.equal(text, 'partial');
    assert.ok(logs.some((l) => l.includes('the model exploded')));
  } finally {
    await s.close();
  }
});

test('a prompt the tokenizer cannot encode is a 400, not a server error', async () => {
  const picky = new FakeEngine({});
  picky.countTokens = (prompt): number => {
    const text = picky.renderChat(prompt);
    if (/[^\x00-\x7f]/.test(text)) throw new Error('character "日" (U+65E5) is not in the vocabulary');
    return text.length;
  };
  const other = await startServer({ engine: picky, port: 0 });
  try {
    const r = await fetch(`${other.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: '日本' }], max_tokens: 5 }),
    });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'invalid_prompt');
    assert.match(body.error.message, /cannot encode/);
  } finally {
    await other.close();
  }
});

test('an engine that batches gets that many generations at once; the rest still queue in order', async () => {
  const batching = new FakeEngine({ tokenDelayMs: 1 });
  Object.defineProperty(batching, 'maxConcurrent', { value: 3 });
  const other = await startServer({ engine: batching, port: 0 });
  try {
    const c = new OpenAI({ baseURL: `${other.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const words = ['one', 'two', 'three', 'four', 'five', 'six'];
    const replies = await Promise.all(words.map((w) => c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: w }] })));
    assert.deepEqual(replies.map((r) => r.choices[0].message.content), words.map((w) => `You said: ${w}.`));
    assert.ok(batching.maxActive > 1 && batching.maxActive <= 3, `maxActive ${batching.maxActive}`);
  } finally {
    await other.close();
  }
});

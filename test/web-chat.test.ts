import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { FakeEngine } from './helpers/fake-engine.js';

// Debian's chromium; CI installs it (apt-get install -y chromium). Elsewhere the test says why it skips.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (install it with apt-get install -y chromium, or set CHROMIUM_PATH)`;

let browser: Browser;
let server: RunningServer;
let engine: FakeEngine;

before(async () => {
  if (skip) return;
  engine = new FakeEngine({ tokenDelayMs: 3 });
  server = await startServer({ engine, port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('web chat page: a message gets a streamed reply; parameters are sent; reset clears', { skip, timeout: 20_000 }, async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.url + '/');
  await page.waitForFunction(() => document.getElementById('model')!.textContent!.includes('fake-model'));

  await page.fill('#system', 'Be kind.');
  await page.fill('#max_tokens', '100');
  await page.fill('#input', 'hello from the browser');
  await page.click('#send');

  // streamed: the reply is visible partially before it is complete
  const partial = await page.waitForFunction(() => {
    const el = document.querySelector('.msg.assistant.streaming');
    return el && el.textContent!.length > 0 && el.textContent!.length < 'You said: hello from the browser.'.length ? el.textContent : null;
  });
  const seen = String(await partial.jsonValue());
  assert.ok('You said: hello from the browser.'.startsWith(seen), `partial reply ${JSON.stringify(seen)}`);
  await page.waitForSelector('.msg.assistant:not(.streaming) .meta');
  const reply = await page.$eval('.msg.assistant', (el) => el.firstChild!.textContent);
  assert.equal(reply, 'You said: hello from the browser.');
  const call = engine.calls.at(-1)!;
  assert.match(call.prompt, /^<\|system\|>Be kind\.<\|end\|>/);
  assert.equal(call.params.maxTokens, 100);

  // a second turn carries the first exchange
  await page.fill('#input', 'again');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant .meta').length === 2);
  assert.match(engine.calls.at(-1)!.prompt, /hello from the browser.*again/s);

  await page.click('#reset');
  assert.equal(await page.$$eval('.msg', (els) => els.length), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('web chat page: when the conversation outgrows the context, the oldest exchanges are dropped', { skip, timeout: 20_000 }, async () => {
  const small = new FakeEngine({ contextLength: 240 });
  const s = await startServer({ engine: small, port: 0 });
  const page = await browser.newPage();
  try {
    await page.goto(s.url + '/');
    await page.waitForFunction(() => document.getElementById('model')!.textContent!.includes('context 240'));
    assert.equal(await page.inputValue('#max_tokens'), '120');
    for (const [i, text] of ['first question here', 'second question here', 'third question here'].entries()) {
      await page.fill('#input', text);
      await page.click('#send');
      await page.waitForFunction((n) => document.querySelectorAll('.msg.assistant .meta').length === n, i + 1);
    }
    assert.equal(await page.$$eval('.msg.error', (els) => els.length), 0);
    assert.ok((await page.$$eval('.msg.forgotten', (els) => els.length)) >= 2);
    const last = small.calls.at(-1)!.prompt;
    assert.doesNotMatch(last, /first question/);
    assert.match(last, /third question here<\|end\|>\n<\|assistant\|>$/);
  } finally {
    await page.close();
    await s.close();
  }
});

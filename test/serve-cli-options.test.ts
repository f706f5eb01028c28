// `gptlab serve` and `gptlab chat` refuse options that would start a broken or unsafe session, with one line
// naming the flag, before loading anything (issue #9 §2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveCommand } from '../src/cli/serve-cli.js';
import { chatCommand } from '../src/cli/chat-cli.js';
import { UsageError } from '../src/cli/args.js';

const refused = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof UsageError, String(e));
  assert.match((e as Error).message, pattern);
  assert.doesNotMatch((e as Error).message, /\n/);
  return true;
};

test('serve: --max-body 0, --max-queue -1, --api-key "", --port 70000, --host "" are refused with one line', async () => {
  const ck = '/nonexistent/checkpoint';
  await assert.rejects(serveCommand([ck, '--max-body', '0']), refused(/--max-body/));
  await assert.rejects(serveCommand([ck, '--max-queue', '-1']), refused(/--max-queue/));
  await assert.rejects(serveCommand([ck, '--api-key', '']), refused(/--api-key/));
  await assert.rejects(serveCommand([ck, '--api-key', 'a b']), refused(/--api-key/));
  await assert.rejects(serveCommand([ck, '--port', '70000']), refused(/--port/));
  await assert.rejects(serveCommand([ck, '--max-batch', '0']), refused(/--max-batch/));
  await assert.rejects(serveCommand([ck, '--host', '']), refused(/--host/));
  await assert.rejects(serveCommand([ck, '--model', ' ']), refused(/--model/));
});

test('chat: sampling flags follow the server rules', async () => {
  const ck = '/nonexistent/checkpoint';
  await assert.rejects(chatCommand([ck, '--top-p', '1.5']), refused(/--top-p: top_p must be a number from 0 to 1/));
  await assert.rejects(chatCommand([ck, '--temperature', '-1']), refused(/--temperature/));
  await assert.rejects(chatCommand([ck, '--max-tokens', '0']), refused(/--max-tokens/));
  await assert.rejects(chatCommand([ck, '--repetition-penalty', '0']), refused(/--repetition-penalty/));
});

test('serve --help shows the ranges of --port, --max-batch, --max-queue, --max-body', async () => {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    assert.equal(await serveCommand(['--help']), 0);
  } finally {
    process.stdout.write = write;
  }
  assert.match(out, /--port <int>.*from 0 to 65535|--port <int>.*\[0, 65535\]/);
  for (const f of ['--max-batch', '--max-queue', '--max-body']) assert.match(out, new RegExp(`${f} <int>.*(at least|\\[)`), f);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopStringMatcher, StreamDecoder } from '../src/generate/stop.js';

test('StopStringMatcher: the worked example', () => {
  const m = new StopStringMatcher(['END']);
  assert.deepEqual(m.push('abcE'), { text: 'abc', stopped: false });
  assert.deepEqual(m.push('Nx'), { text: 'ENx', stopped: false });
  assert.deepEqual(m.push('yEN'), { text: 'y', stopped: false });
  assert.deepEqual(m.push('D!'), { text: '', stopped: true, stop: 'END' });
  assert.equal(m.stopped, true);
  assert.deepEqual(m.push('more'), { text: '', stopped: true, stop: 'END' });
  assert.equal(m.flush(), '');
});

test('StopStringMatcher: concatenated output equals text up to the first stop string, for every split', () => {
  const text = 'Hello there.\nUser: hi\n\nmore text';
  const stops = ['\n\n', 'User:'];
  for (let size = 1; size <= 7; size++) {
    const m = new StopStringMatcher(stops);
    let out = '';
    let stopped = false;
    for (let i = 0; i < text.length && !stopped; i += size) {
      const r = m.push(text.slice(i, i + size));
      out += r.text;
      stopped = r.stopped;
      if (stopped) assert.equal(r.stop, 'User:');
    }
    assert.ok(stopped);
    assert.equal(out, 'Hello there.\n');
  }
});

test('StopStringMatcher: no stop → everything comes out after flush; held text is minimal', () => {
  const m = new StopStringMatcher(['###']);
  assert.equal(m.push('a#').text, 'a');
  assert.equal(m.push('#').text, ''); // '##' could still become '###'
  assert.equal(m.push('b').text, '##b');
  assert.equal(m.push('c#').text, 'c');
  assert.equal(m.flush(), '#');
  assert.equal(m.stopped, false);
  // earliest stop wins, even if listed later
  const e = new StopStringMatcher(['zz', 'b']);
  assert.deepEqual(e.push('abzz'), { text: 'a', stopped: true, stop: 'b' });
  assert.throws(() => new StopStringMatcher(['ok', '']), /stop string #1/);
});

test('StopStringMatcher does not split a surrogate pair', () => {
  const m = new StopStringMatcher(['x']);
  const s = 'a😀';
  const r = m.push(s.slice(0, 2)); // 'a' + high surrogate
  assert.equal(r.text, 'a');
  assert.equal(m.push(s.slice(2)).text, '😀');
});

// a byte-level "tokenizer": one token per UTF-8 byte
const bytesOf = (s: string) => [...new TextEncoder().encode(s)];
const byteDecode = (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids));

test('StreamDecoder holds back incomplete UTF-8 and never emits U+FFFD for valid text', () => {
  const d = new StreamDecoder(byteDecode);
  assert.equal(d.push(0x68), 'h');
  assert.equal(d.push(0xc3), '');
  assert.equal(d.push(0xa9), 'é');
  const text = 'naïve 日本語 😀 done';
  const d2 = new StreamDecoder(byteDecode);
  const pieces = bytesOf(text).map((b) => d2.push(b));
  assert.ok(pieces.every((p) => !p.includes('\uFFFD')));
  assert.equal(pieces.join('') + d2.flush(), text);
});

test('StreamDecoder: invalid bytes eventually come out instead of stalling; flush emits the tail', () => {
  const d = new StreamDecoder(byteDecode, 4);
  let out = '';
  for (const b of [0xff, 0xff, 0xff, 0xff, 0x61]) out += d.push(b);
  assert.ok(out.includes('\uFFFD'));
  const d2 = new StreamDecoder(byteDecode);
  assert.equal(d2.push(0x61) + d2.push(0xe6), 'a');
  assert.equal(d2.flush(), '\uFFFD');
});

test('StreamDecoder works with context-dependent decoders (SentencePiece-style leading space)', () => {
  // pieces with '▁' for a space; decode strips the leading space of the whole string, like SentencePiece
  const vocab = ['▁Hello', '▁world', '!', '▁again'];
  const decode = (ids: number[]) => ids.map((i) => vocab[i]).join('').replace(/▁/g, ' ').replace(/^ /, '');
  const d = new StreamDecoder(decode);
  const out = [0, 1, 2, 3].map((i) => d.push(i)).join('') + d.flush();
  assert.equal(out, 'Hello world! again');
});

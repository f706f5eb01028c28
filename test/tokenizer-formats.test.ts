import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { trainBPE, WordPieceTokenizer, bpeToHF, wordPieceToHF, tokenizerFromJSON, tokenizerFromHF, BPETokenizer } from '../src/tokenizers/index.js';

function corpus(): string {
  const words = ['the', 'king', 'queen', 'annoying', 'annoyingly', 'running', 'runner', 'walked', 'walking', 'happily', 'happy', 'tokenizer', 'tokens', 'café', 'naïve', 'world', 'hello'];
  let s = '';
  let seed = 7;
  for (let i = 0; i < 3000; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    s += words[seed % words.length] + (seed % 13 === 0 ? '.\n' : seed % 7 === 0 ? ', ' : ' ');
  }
  return s + "I'm here, you're there; 12345 and 3.14! 床前明月光 😀\n";
}

const SAMPLES = ['Hello world, the king and queen!', 'annoyingly   happy\n\nrunners walked 42 times', "I'm naïve about café tokens 😀", '床前明月光', ''];

test('byte-level BPE written as tokenizer.json loads in @huggingface/tokenizers with the same ids', () => {
  for (const pattern of ['gpt4', 'gpt2', null] as const) {
    const ours = trainBPE(corpus(), { vocabSize: 400, pattern, specialTokens: ['<|endoftext|>'] });
    const json = JSON.parse(JSON.stringify(bpeToHF(ours)));
    const hf = new HFTokenizer(json, {});
    for (const s of SAMPLES) {
      const ids = ours.encode(s);
      assert.deepEqual(hf.encode(s, { add_special_tokens: false }).ids, ids, `pattern ${pattern}: ${JSON.stringify(s)}`);
      if (ids.length) assert.equal(hf.decode(ids), ours.decode(ids));
    }
    // and it reads back into the identical tokenizer
    const back = tokenizerFromJSON(json) as BPETokenizer;
    assert.deepEqual(back.merges, ours.merges);
    assert.equal(back.pattern, ours.pattern);
    assert.deepEqual(back.encode(corpus()), ours.encode(corpus()));
  }
});

test('WordPiece: annoyingly → annoying ##ly, [UNK], BERT specials, HF round trip', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'annoying', '##ly', 'a', '##n', '##o', '##y', '!'];
  const wp = new WordPieceTokenizer(vocab);
  assert.deepEqual(wp.tokenize('Annoyingly!'), ['annoying', '##ly', '!']);
  assert.deepEqual(wp.tokenize('xyz annoy'), ['[UNK]', 'a', '##n', '##n', '##o', '##y']);
  assert.deepEqual(wp.encodeForBert('annoyingly'), [2, 5, 6, 3]);
  assert.equal(wp.decode(wp.encode('annoyingly!')), 'annoyingly !');

  const trained = WordPieceTokenizer.train(corpus(), 110);
  assert.ok(trained.vocabSize <= 110 && trained.vocabSize > 60, `vocab ${trained.vocabSize}`);
  const hf = new HFTokenizer(JSON.parse(JSON.stringify(wordPieceToHF(trained))), {});
  for (const s of SAMPLES) {
    assert.deepEqual(hf.encode(s, { add_special_tokens: false }).ids, trained.encode(s), JSON.stringify(s));
    assert.deepEqual(hf.encode(s).ids, trained.encodeForBert(s));
  }
  const back = tokenizerFromHF(wordPieceToHF(trained)) as WordPieceTokenizer;
  assert.deepEqual(back.vocab, trained.vocab);
  const own = tokenizerFromJSON(JSON.parse(JSON.stringify(trained.toJSON())));
  assert.deepEqual(own.encode(corpus()), trained.encode(corpus()));
  assert.throws(() => WordPieceTokenizer.train(corpus(), 10), /too small/);
});

test('malformed tokenizer.json files give clear errors', () => {
  assert.throws(() => tokenizerFromJSON({ model: { type: 'Unigram', vocab: [] } }, 'x.json'), /x\.json: model\.vocab must be an object/);
  assert.throws(() => tokenizerFromJSON({ model: { type: 'Unigram', vocab: {} } }, 'x.json'), /x\.json: model type "Unigram" is not supported/);
  assert.throws(() => tokenizerFromJSON({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] }, pre_tokenizer: null }, 'x.json'), /only byte-level BPE/);
  const ours = trainBPE(corpus(), { vocabSize: 300 });
  const hf = bpeToHF(ours) as { model: { merges: string[][] } };
  hf.model.merges[3] = ['nope', 'zz'];
  assert.throws(() => tokenizerFromJSON(hf, 'y.json'), /y\.json: model\.merges\[3\]/);
});

// Entity-level tagging metrics equal seqeval's, default and strict mode, on the cases of
// test/fixtures/seqeval/cases.json (numbers by scripts/fixtures/make_seqeval_fixture.py running seqeval's own
// code): IOB2, IOBES, IOE2, IOB1, BILOU, suffix tags, the notes' begin/end/other character tagging of
// 中国的首都是北京, seeded random sequences, a strict-mode refusal. Plus the entity lists themselves and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { entitiesDefault, entitiesStrict, formatSeqevalReport, seqevalReport, type SeqevalReport, type TagScheme } from '../src/eval/seqeval.js';

type Quad = [number | null, number | null, number | null, number];
interface Numbers { types: string[]; per_type: Record<string, Quad>; micro: Quad; macro: Quad; weighted: Quad; accuracy: number; scheme?: string }
interface Case { name: string; gold: string[][]; pred: string[][]; suffix: boolean; scheme: TagScheme | null; default: Numbers; strict: Numbers | { error: string } }

const { cases } = JSON.parse(fs.readFileSync(new URL('../../test/fixtures/seqeval/cases.json', import.meta.url), 'utf8')) as { cases: Case[] };

function same(where: string, got: { precision: number; recall: number; f1: number; support: number }, want: Quad): void {
  const g = [got.precision, got.recall, got.f1];
  for (let i = 0; i < 3; i++) {
    const w = want[i];
    if (w === null) assert.ok(Number.isNaN(g[i]), `${where}[${i}]: ${g[i]}, seqeval NaN`);
    else assert.ok(Math.abs(g[i] - w) <= 1e-12, `${where}[${i}]: ${g[i]}, seqeval ${w}`);
  }
  assert.equal(got.support, want[3], `${where}: support`);
}

function check(name: string, r: SeqevalReport, want: Numbers): void {
  assert.deepEqual([...r.perType.keys()], want.types, `${name}: types`);
  for (const t of want.types) same(`${name} ${t}`, r.perType.get(t)!, want.per_type[t]);
  same(`${name} micro`, r.micro, want.micro);
  same(`${name} macro`, r.macro, want.macro);
  same(`${name} weighted`, r.weighted, want.weighted);
  assert.ok(Math.abs(r.accuracy - want.accuracy) <= 1e-12, `${name}: accuracy`);
}

test(`seqeval default mode: ${cases.length} cases`, () => {
  for (const c of cases) check(`${c.name} (default)`, seqevalReport(c.gold, c.pred, { suffix: c.suffix }), c.default);
});

test('seqeval strict mode, scheme given or detected; refusals', () => {
  let refused = 0;
  for (const c of cases) {
    const run = (): SeqevalReport => seqevalReport(c.gold, c.pred, { mode: 'strict', scheme: c.scheme ?? undefined, suffix: c.suffix });
    if ('error' in c.strict) {
      assert.throws(run, /is not allowed in IOB2/, c.name);
      refused++;
      continue;
    }
    const r = run();
    check(`${c.name} (strict)`, r, c.strict);
    assert.equal(r.scheme, c.strict.scheme, `${c.name}: scheme`);
  }
  assert.equal(refused, 1);
});

test("the notes' character tagging: 中国的首都是北京 → 中国 and 北京", () => {
  const chars = [...'中国的首都是北京'];
  const tags = ['B', 'E', 'O', 'O', 'O', 'O', 'B', 'E'];
  const words = (es: { start: number; end: number }[]): string[] => es.map((e) => chars.slice(e.start, e.end + 1).join(''));
  assert.deepEqual(words(entitiesDefault(tags)), ['中国', '北京']);
  assert.deepEqual(words(entitiesStrict(tags, 'IOBES')), ['中国', '北京']);
  // a begin without its end: conlleval mode still counts 北, strict mode does not
  const broken = ['B', 'E', 'O', 'O', 'O', 'O', 'B', 'O'];
  assert.deepEqual(words(entitiesDefault(broken)), ['中国', '北']);
  assert.deepEqual(words(entitiesStrict(broken, 'IOBES')), ['中国']);
  const r = seqevalReport([tags], [broken], { mode: 'strict' });
  assert.equal(r.scheme, 'IOBES');
  assert.equal(r.micro.precision, 1);
  assert.equal(r.micro.recall, 0.5);
  assert.match(formatSeqevalReport(r), /micro avg {6,}1\.00 {6,}0\.50 {6,}0\.67 {8,}2/);
});

test('errors name the sentence', () => {
  assert.throws(() => seqevalReport([['O', 'B-X']], [['O']]), /sentence 0 has 2 gold tags but 1 predicted/);
  assert.throws(() => seqevalReport([['O']], []), /1 gold sentences but 0 predicted/);
  assert.throws(() => seqevalReport([[]], [[]]), /no tags to score/);
  assert.throws(() => seqevalReport([['O', 'X-PER']], [['O', 'O']], { mode: 'strict' }), /tag "X-PER" has no prefix/);
  assert.throws(() => seqevalReport([['B-A', 'U-A']], [['B-A', 'E-A']], { mode: 'strict' }), /fit no scheme/);
});

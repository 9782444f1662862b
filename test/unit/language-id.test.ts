// Language identification on real English and Arabic (test/support/language-samples.ts): the two
// models behind one interface, the verdict rule, and filter-opus quarantining pairs with a side in
// another language, with counts, while the knob off leaves every pair alone.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadCorpusInput, filterOpusPairs } from '../../activities/corpus';
import { loadEldIdentifier } from '../../activities/corpus/eld-identifier';
import { loadFastTextIdentifier } from '../../activities/corpus/fasttext-identifier';
import { type LanguageIdentifier, acceptedLabels, judgeableText, wrongLanguage } from '../../activities/corpus/language-identifier';
import type { PairLanguageCheck } from '../../contracts/cpu-activities';
import { Recipe } from '../../contracts/recipe';
import { sql } from '../support/duckdb-sql';
import { writeOpusRows } from '../support/opus-parquet';
import { hard, otherLanguages, pairs, arabicLanguage } from '../support/language-samples';

const knobs = Recipe.shape.language_id.parse({});
const check = { min_confidence: knobs.min_confidence, min_letters: knobs.min_letters };
/** fastText's lid.176.ftz, shipped inside fasttext.wasm.js: a real fastText model file, read the way a staged GlotLID model.bin is. */
const LID176 = require.resolve('fasttext.wasm.js/dist/fastText/models/lid.176.ftz');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'language-id-test-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe.each([
  ['eld (the builtin model until 0.4.0)', () => loadEldIdentifier(), { en: 'en', ar: 'ar' }],
  ['fastText lid.176 (the builtin model)', () => loadFastTextIdentifier(LID176, 'file://lid.176.ftz'), { en: 'en', ar: 'ar' }],
] as const)('the %s identifier', (_name, load, labels) => {
  let id: LanguageIdentifier;
  let en: ReadonlySet<string>;
  let ar: ReadonlySet<string>;
  beforeAll(async () => {
    id = await load();
    en = acceptedLabels(id, [labels.en], 'test');
    ar = acceptedLabels(id, [labels.ar], 'test');
  });

  it('passes every English and every Arabic sentence of the samples', () => {
    const wrong = pairs.flatMap((p) => [wrongLanguage(id, p.en, en, check), wrongLanguage(id, p.ar, ar, check)]).filter(Boolean);
    expect(wrong).toEqual([]);
  });

  it('places French, Spanish, German, Persian and Urdu in their own languages, confidently', () => {
    for (const o of otherLanguages) {
      const expected = o.lang === 'fa' || o.lang === 'ur' ? ar : en; // the side whose script they share
      expect(wrongLanguage(id, o.text, expected, check), o.text).toMatchObject({ label: o.lang });
    }
  });

  it('keeps mixed texts in their main language and leaves texts too short to tell alone', () => {
    expect(wrongLanguage(id, hard.mixedEnglish, en, check)).toBeNull();
    expect(wrongLanguage(id, hard.mixedArabic, ar, check)).toBeNull();
    expect(wrongLanguage(id, hard.shortEnglish, en, check)).toBeNull();
    expect(wrongLanguage(id, hard.shortArabic, ar, check)).toBeNull();
    // English said where Arabic was asked for: wrong, whatever the model's name for English.
    expect(wrongLanguage(id, pairs[0]!.en, ar, check)).toMatchObject({ label: labels.en });
  });

  it('refuses a language the model cannot name, saying what to do', () => {
    expect(() => acceptedLabels(id, ['xx-nonexistent'], 'language_id (target language xx)')).toThrow(/has no label "xx-nonexistent".*GlotLID.*language_id.check false/);
  });
});

describe('what the identifier is shown', () => {
  it('drops code and URLs, which read as English in every language', () => {
    const answer = 'استخدم هذه الدالة:\n```python\ndef add(a, b):\n    return a + b\n```\nوانظر `print()` و https://example.com/docs للمزيد.';
    expect(judgeableText(answer)).toBe('استخدم هذه الدالة: وانظر و للمزيد.');
  });

  it('judges an Arabic answer with a long code block as Arabic', async () => {
    const id = await loadEldIdentifier();
    const code = '```js\n' + 'const total = items.map((item) => item.price * item.quantity).reduce((a, b) => a + b, 0);\n'.repeat(10) + '```';
    const answer = `${pairs[3]!.ar}\n${code}\n${pairs[4]!.ar}`;
    expect(wrongLanguage(id, answer, new Set(['ar']), check)).toBeNull();
  });
});

describe('a fastText model file', () => {
  it('that is not one is refused with the field and the fix', async () => {
    const bogus = path.join(dir, 'model.bin');
    await writeFile(bogus, 'not a model at all');
    await expect(loadFastTextIdentifier(bogus, 'file://bogus/model.bin')).rejects.toThrow(/language_id.model.fasttext file:\/\/bogus\/model.bin is not a fastText model file; point it at/);
    await expect(loadFastTextIdentifier(path.join(dir, 'absent.bin'), 'file://absent.bin')).rejects.toBeInstanceOf(BadCorpusInput);
  });
});

describe('filterOpusPairs with language identification', () => {
  const language = Recipe.shape.language.parse(arabicLanguage);
  const filters = Recipe.shape.stages.shape.filter_opus.parse({});
  const pairCheck: PairLanguageCheck = { model: 'builtin', ...check, source: ['en'], target: ['ar'] };
  // Good pairs, then pairs the script filters let through: an Arabic-script side in Persian or
  // Urdu, a Latin-script side in French or Spanish, and the short and mixed ones that must stay.
  const rows: [string, string][] = [
    ...pairs.slice(0, 20).map((p): [string, string] => [p.en, p.ar]),
    [pairs[20]!.en, otherLanguages[5]!.text], // target Persian
    [pairs[21]!.en, otherLanguages[7]!.text], // target Urdu
    [pairs[22]!.en, otherLanguages[8]!.text], // target Urdu
    [otherLanguages[0]!.text, pairs[23]!.ar], // source French
    [otherLanguages[2]!.text, pairs[24]!.ar], // source Spanish
    [otherLanguages[4]!.text, otherLanguages[6]!.text], // both wrong: counted once, as source
    [hard.mixedEnglish, 'التقينا بمحمد في مطار الرياض أمس بعد الظهر.'],
    ['I bought a new Samsung phone from the shop near my house.', hard.mixedArabic],
    ['Yes', hard.shortArabic],
  ];
  let file: string;
  beforeAll(async () => {
    file = path.join(dir, 'opus.parquet');
    await writeOpusRows(file, rows);
  });

  it('quarantines each pair with a side in another language, with its own count and the guess', async () => {
    const workDir = await mkdtemp(path.join(dir, 'on-'));
    const result = await filterOpusPairs({ opus: { path: file, label: 'opus' }, language, filters, languageId: { check: pairCheck }, workDir });
    expect(result.counts).toMatchObject({ read: rows.length, source_language: 3, target_language: 3, kept: rows.length - 6 });
    const { read, ...buckets } = result.counts;
    expect(Object.values(buckets).reduce((a, b) => a + b, 0)).toBe(read);
    const quarantined = await sql(`SELECT * FROM read_parquet('${result.wrongLanguagePath!}')`);
    expect(quarantined.map((q) => [q.id, q.side, q.detected])).toEqual([
      ['20', 'target', 'fa'], ['21', 'target', 'ur'], ['22', 'target', 'ur'], ['23', 'source', 'fr'], ['24', 'source', 'es'], ['25', 'source', 'de'],
    ]);
    expect(quarantined.every((q) => Number(q.confidence) >= knobs.min_confidence)).toBe(true);
    const kept = await sql(`SELECT id FROM read_parquet('${result.pairsPath}')`);
    expect(kept.map((k) => k.id)).toEqual([...Array.from({ length: 20 }, (_, i) => String(i)), '26', '27', '28']);
  });

  it('leaves every pair alone with the knob off', async () => {
    const workDir = await mkdtemp(path.join(dir, 'off-'));
    const result = await filterOpusPairs({ opus: { path: file, label: 'opus' }, language, filters, workDir });
    expect(result.counts).toMatchObject({ read: rows.length, kept: rows.length, source_language: 0, target_language: 0 });
    expect(result.wrongLanguagePath).toBeUndefined();
  });

  it('refuses a target language the builtin model does not know before reading any pair', async () => {
    const workDir = await mkdtemp(path.join(dir, 'unknown-'));
    const languageId = { check: { ...pairCheck, target: ['zu'] } }; // Zulu: not among lid.176's 176 languages
    await expect(filterOpusPairs({ opus: { path: file, label: 'opus' }, language, filters, languageId, workDir })).rejects.toThrow(/language_id \(target language zu\).*has no label "zu"/);
  });
});

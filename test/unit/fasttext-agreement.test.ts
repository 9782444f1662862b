// The TypeScript fastText predictor (activities/corpus/fasttext-predict.ts) against fastText's own
// code compiled to WebAssembly (npm fasttext.wasm.js): the same label on every text and the same
// probability. On lid.176.ftz (quantized input, hierarchical softmax) over sentences in several
// languages, mixed, cut anywhere (inside a surrogate pair too), odd and long; and on small model
// files written here (test/support/fasttext-bin.ts) for the paths lid.176 does not take: dense
// matrices as in a .bin (GlotLID), softmax, one-vs-all, negative sampling, word n-grams, qout, and
// the wasm kernel that computes a dense output layer (activities/corpus/fasttext-kernel.ts).
// Probabilities are compared in float32 ulps (floats apart): the arithmetic is float32 in
// fastText's order, so they are the same float on every lid.176 text, and at most one float apart
// on the small models: exp is V8's Math.exp rounded to float here and musl's expf in the wasm build
// (accurate to ~0.5 ulp, so not always the nearest float); a few softmax probabilities there differ
// by that one ulp (1.5e-8 at most). A changed summation order moves them by more, and fails.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadCorpusInput } from '../../activities/corpus';
import { loadFastTextIdentifier } from '../../activities/corpus/fasttext-identifier';
import { readFastTextModel } from '../../activities/corpus/fasttext-model';
import { FastTextPredictor, type PredictorOptions } from '../../activities/corpus/fasttext-predict';
import { judgeableText } from '../../activities/corpus/language-identifier';
import { type TinyModelSpec, seeded, writeTinyModel } from '../support/fasttext-bin';
import { loadWasmFastText } from '../support/fasttext-wasm';
import { hard, otherLanguages, pairs } from '../support/language-samples';

const LID176 = require.resolve('fasttext.wasm.js/dist/fastText/models/lid.176.ftz');
/** Floats apart a probability may be (the brief's bound is 1e-4; this is ~1e-7 at most). */
const TOLERANCE_ULPS = 1;
const bits = new Float32Array(1);
const asInt = new Int32Array(bits.buffer);
/** How many float32 values lie between a and b (both floats, non-negative). */
function ulps(a: number, b: number): number {
  bits[0] = a;
  const ia = asInt[0]!;
  bits[0] = b;
  return Math.abs(ia - asInt[0]!);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fasttext-agreement-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

type Guess = { label: string; probability: number } | null;

/** Texts where the two disagree (label, or probability more than TOLERANCE_ULPS floats apart), and the largest distance in floats. */
function compare(texts: string[], ours: (t: string) => Guess, theirs: (t: string) => Guess): { disagreements: string[]; largest: number } {
  const disagreements: string[] = [];
  let largest = 0;
  for (const text of texts) {
    const [a, b] = [ours(text), theirs(text)];
    const apart = a && b ? ulps(a.probability, b.probability) : 0;
    largest = Math.max(largest, apart);
    if (a?.label !== b?.label || apart > TOLERANCE_ULPS) disagreements.push(`${JSON.stringify(text)}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  return { disagreements, largest };
}

/** Texts in many languages and shapes: what a corpus holds, and what it should never hold but may. */
function lid176Texts(): string[] {
  const sentences = [...pairs.flatMap((p) => [p.en, p.ar]), ...otherLanguages.map((o) => o.text), ...Object.values(hard)];
  const mixed = pairs.slice(0, 10).flatMap((p, i) => [`${p.en} ${p.ar}`, `${p.ar} ${otherLanguages[i % otherLanguages.length]!.text}`]);
  // Cut every few characters, so some cuts land inside a surrogate pair (the emoji) or a word.
  const cutFrom = [`${pairs[0]!.ar} 😀 ${pairs[1]!.en} 𝔘𝔫𝔦𝔠𝔬𝔡𝔢`, otherLanguages[8]!.text, pairs[2]!.en];
  const cut = cutFrom.flatMap((t) => Array.from({ length: Math.ceil(t.length / 3) }, (_, i) => t.slice(0, i * 3 + 1)));
  const odd = [
    '', ' ', '\t', '\n', '\u0000', '   \n  ', '123', '3.14159 2,718', '!!!', '?!.,;:', '😀', '😀😀😀 🎉', '#hashtag @user',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙', '𠀀𠀁𠀂 漢字', '\ud83d', '\ude00 alone', 'a\ud83d', '\ud83dx', 'tab\tsep\vvt\fff\rcr', 'nbsp\u00a0inside',
    'first line\nsecond line in another language: الطقس جميل', 'before </s> after', '</s>', '__label__en', 'hello __label__fr world',
    'null\u0000byte', 'MiXeD CaSe ÀÉÎÕÜ', 'ﬁ ligature', 'ＦＵＬＬＷＩＤＴＨ', 'a', 'ab', 'x'.repeat(300), 'https://example.com/a?b=c',
  ];
  const long = [pairs.map((p) => p.en).join(' '), pairs.map((p) => p.ar).join(' '), otherLanguages.map((o) => o.text).join(' ')];
  const longCut = long.flatMap((t) => [t.slice(0, 1000), judgeableText(t), t.slice(0, 999)]);
  const halves = sentences.map((t) => t.slice(0, t.length >> 1));
  const shouted = sentences.map((t) => t.toUpperCase());
  return [...sentences, ...mixed, ...cut, ...halves, ...shouted, ...odd, ...long, ...longCut];
}

describe("the TypeScript fastText predictor and fastText's wasm build", () => {
  it('give the same label and probability on lid.176.ftz, over texts in many languages, cut, mixed and odd', async () => {
    const [ours, theirs] = [await loadFastTextIdentifier(LID176, 'lid.176'), await loadWasmFastText(LID176)];
    const texts = lid176Texts();
    expect(texts.length).toBeGreaterThan(300);
    const { disagreements, largest } = compare(
      texts,
      (t) => {
        const g = ours.identify(t);
        return g.label ? { label: g.label, probability: g.confidence } : null;
      },
      (t) => theirs.predict(t),
    );
    expect(disagreements).toEqual([]);
    expect(largest).toBe(0); // the same float on every text
    expect([...ours.labels].sort()).toEqual([...theirs.labels].sort());
  });

  const words: [string, number][] = [
    ['</s>', 900], ['the', 500], ['de', 400], ['café', 300], ['مرحبا', 250], ['日本', 200], ['naïve', 150], ['x', 120], ['über', 100], ['😀', 90],
    ['a', 80], ['zz', 70], ['شكرا', 60], ['Ω', 50],
  ];
  const labels: [string, number][] = [['__label__a', 40], ['__label__b', 30], ['__label__c', 30], ['__label__dd', 10], ['__label__e', 5], ['__label__f', 1]];
  const manyLabels = Array.from({ length: 40 }, (_, i): [string, number] => [`__label__l${i}`, 100 - 2 * i]);
  const base = { dim: 10, wordNgrams: 1, minn: 2, maxn: 4, bucket: 97, words, labels, seed: 1 } as const;
  const models: [string, TinyModelSpec][] = [
    ['dense softmax with word bigrams', { ...base, loss: 3, wordNgrams: 2 }],
    ['dense softmax with rows as wide as GlotLID\'s (summed row by row)', { ...base, loss: 3, dim: 80, seed: 8 }],
    ['dense softmax with 40 labels (three groups of the output kernel, the last one partial)', { ...base, loss: 3, seed: 10, labels: manyLabels }],
    ['dense hierarchical softmax with word trigrams', { ...base, loss: 1, wordNgrams: 3, dim: 16, seed: 2 }],
    ['dense one-vs-all', { ...base, loss: 4, seed: 3, minn: 1, maxn: 3 }],
    ['dense negative sampling, no n-grams, no </s>', { ...base, loss: 2, maxn: 0, minn: 0, bucket: 0, words: words.slice(1), seed: 4 }],
    ['format 11 (no character n-grams) softmax', { ...base, loss: 3, version: 11, wordNgrams: 2, seed: 5 }],
    ['quantized with qnorm and qout, pruned, hs', { ...base, loss: 1, dim: 10, seed: 6, quantized: { dsub: 4, qnorm: true, qout: true, keep: [3, 7, 11, 50, 96, 0, 64] } }],
    ['quantized without qnorm, softmax, nothing pruned in', { ...base, loss: 3, dim: 8, seed: 7, quantized: { dsub: 2, qnorm: false, qout: false, keep: [] } }],
  ];

  /** Texts of dictionary words, unknown words, labels and fastText's separators, seeded. */
  function tinyTexts(seed: number): string[] {
    const random = seeded(seed);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const unknown = ['hello', 'cafés', 'مرحبابكم', '日本語', 'zzz', 'ü', '😀😀', 'naive', 'Über', 'q', '𝔘𝔫𝔦', '__label__zz', '__label__a', '</s>'];
    const separators = [' ', ' ', ' ', '  ', '\t', '\v', '\f', '\r', '\u0000', '\n'];
    return Array.from({ length: 400 }, () => {
      const n = Math.floor(random() * 12);
      let text = random() < 0.2 ? pick(separators) : '';
      for (let i = 0; i < n; i++) text += (random() < 0.5 ? pick(words)[0] : pick(unknown)) + (i < n - 1 || random() < 0.2 ? pick(separators) : '');
      return text;
    });
  }

  it.each(models)('give the same label and probability on a small %s model', async (_name, spec) => {
    const file = path.join(dir, `tiny-${spec.seed}.bin`);
    writeTinyModel(file, spec);
    const model = await readFastTextModel(file);
    const wasm = await loadWasmFastText(file);
    const labelNames = spec.labels.map(([l]) => l.replace('__label__', ''));
    // A quantized input matrix is decoded once at load and summed by the wasm kernel, or summed in
    // JavaScript, or decoded row by row when large; dictionary words' rows are precomputed up to a
    // cap, the rest computed when met: every way here.
    const ways: PredictorOptions[] = [{}, { useKernel: false }, { dequantizeUpTo: 0 }, { precomputedRows: 20 }];
    for (const options of ways) {
      const ours = new FastTextPredictor(model, options);
      const { disagreements } = compare(
        tinyTexts(spec.seed),
        (t) => {
          const p = ours.predict(t);
          return p && { label: labelNames[p.label]!, probability: p.probability };
        },
        (t) => wasm.predict(t),
      );
      expect(disagreements).toEqual([]);
    }
  });
});

describe('a damaged or unusable model file', () => {
  it('is refused as BadCorpusInput naming the knob and where the file stops, wherever it is cut', async () => {
    const whole = await readFile(LID176);
    // In the arguments, the dictionary, the pruned n-grams, the input codes and quantizers, the output matrix.
    for (const at of [6, 40, 70, 500, 60_000, 100_000, 400_000, 900_000, whole.length - 100, whole.length - 1]) {
      const file = path.join(dir, `cut-${at}.ftz`);
      await writeFile(file, whole.subarray(0, at));
      const load = loadFastTextIdentifier(file, `file://cut-${at}.ftz`);
      await expect(load).rejects.toBeInstanceOf(BadCorpusInput);
      await expect(load).rejects.toThrow(new RegExp(`language_id.model.fasttext file://cut-${at}.ftz is not a fastText model.*(expected at byte|the file ends)`));
    }
  });

  it('is refused when it is not a classifier', async () => {
    const file = path.join(dir, 'cbow.bin');
    writeTinyModel(file, { dim: 4, loss: 2, model: 1, wordNgrams: 1, minn: 0, maxn: 0, bucket: 0, words: [['a', 2]], labels: [['__label__a', 1]], seed: 9 });
    await expect(loadFastTextIdentifier(file, 'file://cbow.bin')).rejects.toThrow(/language_id.model.fasttext file:\/\/cbow.bin is not a fastText model fastText could load \(it is not a supervised/);
  });
});

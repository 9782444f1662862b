// ELD (npm `eld`), n-gram tables inside the package, its `medium` table (60 languages): the builtin
// identifier until 0.4.0, now fastText lid.176 (language-identifier.ts), which judges 1.6x the texts
// a second on one thread. Kept for bench/language-id.ts, which measures the old path beside the new.
import type { LanguageIdentifier } from './language-identifier';

interface EldDetector {
  load(size: string): Promise<boolean>;
  detect(text: string): { language: string; getScores(): Record<string, number>; isReliable(): boolean };
  info(): { Languages: Record<number, string> };
}

let loaded: Promise<LanguageIdentifier> | undefined;

/** One detector per process: the tables take ~1 s and ~100 MB to load, and detection keeps no state. */
export function loadEldIdentifier(): Promise<LanguageIdentifier> {
  loaded ??= (async () => {
    // eld is an ES module; this project is CommonJS, so it comes in through a dynamic import.
    const { eld } = (await import('eld')) as unknown as { eld: { newInstance(): EldDetector } };
    const detector = eld.newInstance();
    await detector.load('medium');
    return {
      name: 'eld (builtin)',
      labels: new Set(Object.values(detector.info().Languages)),
      identify(text) {
        const result = detector.detect(text);
        if (!result.language) return { label: '', confidence: 0 };
        // Its score of the winner, trusted only when ELD finds the margin and the n-grams enough.
        const score = result.getScores()[result.language] ?? 0;
        return { label: result.language, confidence: result.isReliable() ? score : 0 };
      },
    };
  })();
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

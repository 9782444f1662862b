// Recipe gates: declared with a name, the stage kind they hold and what they show; a bad gate fails
// with one line naming its field, the rule and (for `before`) every valid kind.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipeText } from '../../cli/recipe-file';
import { CampaignInput } from '../../contracts/campaign';

const tiny = readFileSync(path.join(__dirname, '../../recipes/tiny.yaml'), 'utf8');
const withGates = (yaml: string) => `${tiny}\ngates:\n${yaml}\n`;
const parse = (text: string) => parseRecipeText(text, 'gated.yaml');
const problems = (text: string) => {
  const r = parse(text);
  if (r.ok) throw new Error('expected the recipe to be rejected');
  return r.problems;
};

describe('recipe gates', () => {
  it('default to none, so recipes and campaign inputs written before gates still parse', () => {
    const r = parse(tiny);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.recipe.gates).toEqual([]);
    // A campaign input as an older `hala run` wrote it: no `gates` in its recipe.
    const { gates: _gates, ...older } = r.recipe;
    const input = CampaignInput.parse({ campaign_id: 'c', recipe: older, recipe_sha256: 'a'.repeat(64), store_root: 'file:///s', code_version: '0' });
    expect(input.recipe.gates).toEqual([]);
  });

  it('parse with their defaults: five sample rows unless told', () => {
    const r = parse(withGates('  - { name: corpus-review, before: sft }\n  - { name: translator-data, before: train-translator, show: { samples: 0 } }'));
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.recipe.gates).toEqual([
      { name: 'corpus-review', before: 'sft', show: { samples: 5 } },
      { name: 'translator-data', before: 'train-translator', show: { samples: 0 } },
    ]);
  });

  it('name a real stage kind in before, and the error lists every kind', () => {
    expect(problems(withGates('  - { name: corpus-review, before: sfft }'))).toEqual([
      'gates[0].before must be one of "compress-teacher", "filter-opus", "build-bilingual-corpus", "train-translator", "translate-instructions", "evaluate-translator", "sft", "merge", "choose", "evaluate" (got "sfft")',
    ]);
    // A stage's name is not its kind: students' stages are all of kind sft.
    expect(problems(withGates('  - { name: corpus-review, before: sft-hala-350m }'))[0]).toMatch(/^gates\[0\]\.before must be one of .* \(got "sft-hala-350m"\)$/);
  });

  it('refuse a bad or duplicate name, a missing before, too many samples and unknown settings', () => {
    expect(problems(withGates('  - { name: Corpus Review, before: sft }'))).toEqual(['gates[0].name must be lowercase letters, digits and dashes (got "Corpus Review")']);
    expect(problems(withGates('  - { name: review, before: sft }\n  - { name: review, before: merge }'))).toEqual(['gates[1].name duplicates gate "review": each gate needs its own name (got "review")']);
    expect(problems(withGates('  - { name: review }'))).toEqual(['gates[0].before must be one of "compress-teacher", "filter-opus", "build-bilingual-corpus", "train-translator", "translate-instructions", "evaluate-translator", "sft", "merge", "choose", "evaluate" (missing)']);
    expect(problems(withGates('  - { name: review, before: sft, show: { samples: 21 } }'))).toEqual(['gates[0].show.samples must be <= 20 (got 21)']);
    expect(problems(withGates('  - { name: review, before: sft, after: merge }'))).toEqual(['gates[0].after is not a known setting (check its spelling)']);
  });
});

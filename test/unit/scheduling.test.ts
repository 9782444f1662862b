// A recipe's scheduling block: its defaults, its bounds, and the Temporal Priority a campaign and its
// stages get from it (contracts/scheduling.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipeText } from '../../cli/recipe-file';
import { campaignPriority, Scheduling, stagePriority } from '../../contracts/scheduling';
import { fairnessDynamicConfig, schedulingRequirements } from '../../platform/server-scheduling';
import { devServerDynamicConfig } from '../../workers/dev-server';

const tiny = readFileSync(path.join(__dirname, '../../recipes/tiny.yaml'), 'utf8');
const parse = (extra: string) => parseRecipeText(`${tiny}\n${extra}`, 'r.yaml');

describe('scheduling', () => {
  it('defaults to priority 3, weight 1 and the campaign id as fairness key', () => {
    const r = parse('');
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.recipe.scheduling).toEqual({ priority: 3, fairness_weight: 1 });
    expect(campaignPriority(r.recipe.scheduling, 'tiny-20261207')).toEqual({ priorityKey: 3, fairnessKey: 'tiny-20261207', fairnessWeight: 1 });
  });

  it('shares by a named key (a team) with its weight', () => {
    const r = parse('scheduling: { priority: 2, fairness_key: nlp-team, fairness_weight: 3 }');
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(campaignPriority(r.recipe.scheduling, 'any')).toEqual({ priorityKey: 2, fairnessKey: 'nlp-team', fairnessWeight: 3 });
  });

  it('refuses keys outside 1..5, weights outside Temporal range and keys over 64 bytes', () => {
    for (const bad of ['scheduling: { priority: 0 }', 'scheduling: { priority: 6 }', 'scheduling: { fairness_weight: 0 }', `scheduling: { fairness_key: ${'x'.repeat(65)} }`]) {
      const r = parse(bad);
      expect(r.ok ? [] : r.problems.join('\n'), bad).toMatch(/scheduling/);
    }
  });

  it('raises a critical-path stage one key, never above 1', () => {
    const p = campaignPriority({ priority: 3, fairness_weight: 1 }, 'c');
    expect(stagePriority(p, true).priorityKey).toBe(2);
    expect(stagePriority(p, false)).toEqual(p);
    expect(stagePriority(campaignPriority({ priority: 1, fairness_weight: 1 }, 'c'), true).priorityKey).toBe(1);
  });

  it('cuts a long campaign id to a 64-byte key; the defaults are key 3, the campaign its own share', () => {
    const defaults = Scheduling.parse({});
    expect(campaignPriority(defaults, 'é'.repeat(40)).fairnessKey).toBe('é'.repeat(32));
    expect(campaignPriority(defaults, 'c')).toEqual({ priorityKey: 3, fairnessKey: 'c', fairnessWeight: 1 });
  });

  it('hala setup names the dynamic config the dev server runs with', () => {
    const lines = schedulingRequirements('hala').join('\n');
    for (const [key, value] of Object.entries(fairnessDynamicConfig)) {
      expect(devServerDynamicConfig[key]).toBe(value);
      expect(lines).toContain(`${key}: [{ value: ${value} }]`);
    }
    expect(lines).toMatch(/Temporal Cloud: .*Fairness turned on for namespace hala/);
  });
});

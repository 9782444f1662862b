// Recipe checks: the schema refuses what cannot be judged or acted on, naming the field and the fix;
// a check judges a stage's figures against numbers or a fraction of the plan's.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipeText } from '../../cli/recipe-file';
import { Check, judge, unsizedChecks } from '../../contracts/checks';
import type { CampaignProgress } from '../../contracts/campaign';
import { renderChecks } from '../../cli/check-summary';
import { snapshot } from '../../cli/watch-snapshot';
import { PlainLog, terminalFrame } from '../../cli/watch-render';
import { ProgressRate } from '../../cli/progress-rate';
import { renderReportHtml } from '../../cli/report/render-html';

const tiny = readFileSync(path.join(__dirname, '../../recipes/tiny.yaml'), 'utf8');
/** tiny.yaml with its checks replaced by these lines. */
const withChecks = (...lines: string[]) => `${tiny.slice(0, tiny.indexOf('\nchecks:'))}\nchecks:\n${lines.map((l) => `  - ${l}\n`).join('')}`;
const problems = (text: string) => {
  const r = parseRecipeText(text, 'bad.yaml');
  return r.ok ? [] : r.problems;
};

describe('recipe checks', () => {
  it('tiny.yaml declares its three: FP8 parity (choose), keep rate and corpus size (fail)', () => {
    const r = parseRecipeText(tiny, 'tiny.yaml');
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.recipe.checks.map((c) => [c.name, c.after, c.action])).toEqual([
      ['fp8-parity', 'compress-teacher', 'choose'],
      ['opus-keep-rate', 'filter-opus', 'fail'],
      ['corpus-size', 'build-bilingual-corpus', 'fail'],
    ]);
  });

  it('names a metric the stage does not report, with the ones it does', () => {
    expect(problems(withChecks('{ name: x, after: build-bilingual-corpus, metric: rows, at_least: 5, action: fail }'))).toEqual([
      'checks[0].metric "rows" is not a metric of build-bilingual-corpus (it reports pairs, examples, teacher_segments, teacher_generated_rows, teacher_cached_rows, teacher_duplicate_rows, teacher_untranslated, teacher_tokens, pairs_opus, pairs_open_orca, teacher_wrong_language, teacher_quarantined_rows, decontaminated) (got "rows")',
    ]);
  });

  it('allows choose only after compress-teacher, where a choice exists', () => {
    expect(problems(withChecks('{ name: x, after: filter-opus, metric: kept, at_least: 5, action: choose }'))).toEqual([
      'checks[0].action choose needs a choice after the stage, and only compress-teacher has one (the FP8 or the BF16 teacher): use fail or hold after filter-opus (got "choose")',
    ]);
  });

  it('allows of_plan only for a metric the plan has a figure of', () => {
    expect(problems(withChecks('{ name: x, after: compress-teacher, metric: chrf_drop, at_most: { of_plan: 0.5 }, action: choose }'))).toEqual([
      "checks[0].at_most of_plan compares with the stage's figure in `hala plan`, which compress-teacher's chrf_drop has none of (give a number) (got {\"of_plan\":0.5})",
    ]);
  });

  it('needs a bound, a name no gate or other check takes, and a stage that something reads for a hold', () => {
    expect(
      problems(
        withChecks(
          '{ name: budget, after: filter-opus, metric: kept, action: fail }',
          '{ name: late, after: evaluate, metric: average, at_least: 1, action: hold }',
          '{ name: late, after: evaluate, metric: average, at_least: 1, action: fail }',
        ),
      ).sort(),
    ).toEqual([
      'checks[0] needs a bound: at_least or at_most (got {"name":"budget","after":"filter-opus","metric":"kept","action":"fail"})',
      'checks[0].name "budget" is taken by another check or gate: `hala approve` names a hold by it, give it its own name (got "budget")',
      'checks[1].action hold after evaluate would hold nothing (no stage reads it): use fail (got "hold")',
      'checks[2].name "late" is taken by another check or gate: `hala approve` names a hold by it, give it its own name (got "late")',
    ]);
  });

  it('says where the FP8 bound went when a recipe still sets max_chrf_drop', () => {
    const old = tiny.replace('compress_teacher: { check_rows: 64 }', 'compress_teacher: { check_rows: 64, max_chrf_drop: 1 }');
    expect(problems(old)).toEqual([
      "stages.compress_teacher.max_chrf_drop moved to the recipe's checks: declare { name: fp8-parity, after: compress-teacher, metric: chrf_drop, at_most: <points>, action: choose } (or hold, fail) (got 1)",
    ]);
  });
});

describe('judging a check', () => {
  const at = '2026-12-07T00:00:00.000Z';
  const corpus = Check.parse({ name: 'corpus-size', after: 'build-bilingual-corpus', metric: 'pairs', at_least: { of_plan: 0.5 }, action: 'fail' });

  it('resolves a fraction of the plan and says the figures', () => {
    expect(judge(corpus, 'build-bilingual-corpus', { pairs: 646 }, { rows_out: 3150 }, at)).toEqual({
      check: 'corpus-size', stage: 'build-bilingual-corpus', metric: 'pairs', value: 646, at_least: 1575, plan: 3150, passed: false, action: 'fail', at,
      message: 'check corpus-size: build-bilingual-corpus pairs = 646, outside ≥ 1,575, plan 3,150',
    });
    expect(judge(corpus, 'build-bilingual-corpus', { pairs: 3100 }, { rows_out: 3150 }, at).passed).toBe(true);
  });

  it('misses when the plan figure or the metric is unknown: acting beats letting it through unseen', () => {
    expect(judge(corpus, 'build-bilingual-corpus', { pairs: 3100 }, undefined, at)).toMatchObject({ passed: false, message: expect.stringContaining('plan unknown') });
    expect(judge(corpus, 'build-bilingual-corpus', {}, { rows_out: 3150 }, at)).toMatchObject({ value: null, passed: false, message: expect.stringContaining('pairs = not reported') });
  });

  it('finds the checks of the plan a campaign must not start with: their stage unsized', () => {
    const drop = Check.parse({ name: 'p', after: 'compress-teacher', metric: 'chrf_drop', at_most: 2, action: 'choose' });
    expect(unsizedChecks([corpus, drop], { 'build-bilingual-corpus': { rows_out: 3150 } })).toEqual([]);
    expect(unsizedChecks([corpus, drop], { 'build-bilingual-corpus': { rows_in: 300 } })).toEqual([corpus]);
    expect(unsizedChecks([corpus, drop], undefined)).toEqual([corpus]);
  });

  it('takes both bounds inclusive', () => {
    const drop = Check.parse({ name: 'p', after: 'compress-teacher', metric: 'chrf_drop', at_least: -5, at_most: 2, action: 'choose' });
    expect([2, 2.01, -5, -5.5].map((v) => judge(drop, 'compress-teacher', { chrf_drop: v }, undefined, at).passed)).toEqual([true, false, true, false]);
  });
});

describe('checks as hala status and hala watch show them', () => {
  const at = '2026-12-07T00:00:00.000Z';
  const corpus = judge(Check.parse({ name: 'corpus-size', after: 'build-bilingual-corpus', metric: 'pairs', at_least: 1000, action: 'hold' }), 'build-bilingual-corpus', { pairs: 46 }, undefined, at);
  const parity = { ...judge(Check.parse({ name: 'fp8-parity', after: 'compress-teacher', metric: 'chrf_drop', at_most: 2, action: 'choose' }), 'compress-teacher', { chrf_drop: 0.5 }, undefined, at), chosen: { candidate: 'fp8', uri: 'file:///s/fp8/model' } };
  const progress: CampaignProgress = { campaign_id: 'c1', state: 'running', stages: [{ stage: 'filter-opus', kind: 'filter-opus', workflow_id: 'c1/filter-opus', status: 'completed', artifacts: [], metrics: {}, forced: false }], checks: [parity, corpus] };
  const lines = [
    'check fp8-parity: compress-teacher chrf_drop = 0.5, within ≤ 2 → chose fp8: file:///s/fp8/model',
    'check corpus-size: build-bilingual-corpus pairs = 46, outside ≥ 1,000 → holds until `hala approve c1 corpus-size`',
  ];

  it('hala status: one line each, with the figures and what it did', () => {
    expect(renderChecks(progress)).toBe(lines.join('\n'));
    expect(renderChecks({ ...progress, checks: undefined })).toBe('');
  });

  it('hala watch: in the terminal block, and announced once in the plain log', () => {
    const snap = snapshot(progress, [], [], new ProgressRate(), Date.parse(at));
    expect(snap.checks).toEqual(lines);
    expect(terminalFrame(snap, { colour: false, width: 400, t0: Date.parse(at) }).slice(1, 3)).toEqual(lines.map((l) => `? ${l}`));
    const log = new PlainLog(Date.parse(at));
    expect(log.lines(snap).filter((l) => l.includes('check '))).toHaveLength(2);
    expect(log.lines(snap).filter((l) => l.includes('check '))).toHaveLength(0);
  });

  it('hala report: a Checks section with the figures and what each did', () => {
    const html = renderReportHtml({
      campaign_id: 'c1', state: 'running', source: 'live', generated_at: at, stages: [], cost: { gpu_hours: 0 }, loss: [], translation: {}, benchmarks: [], funnel: {},
      lineage: { nodes: [], edges: [] }, missing: [], checks: [parity, corpus],
    });
    expect(html).toContain('<h2>Checks</h2>');
    expect(html).toContain('chose fp8: file:///s/fp8/model');
    expect(html).toContain('check corpus-size: build-bilingual-corpus pairs = 46, outside ≥ 1,000');
  });
});

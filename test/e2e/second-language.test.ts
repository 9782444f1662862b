// The recipe is language-parametric: recipes/tiny-fr.yaml runs the same campaign for English ->
// French (a Latin-script target) on the French tiny world, end to end on the local stack. What
// follows the recipe rather than one language is checked on what the stages were given and did:
// the prompts name French, the script filter keeps Latin target text, language identification uses
// the `fr` label and catches the English planted in the French column, decontamination and the
// evaluation read the benchmark's MMLU layout. Several minutes on 2 cores.
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scoresByModel } from '../../contracts/benchmark-scores';
import { runLocalCampaign, type LocalCampaign } from '../support/local-campaign';

const minutes = 60_000;
const ID = 'e2e-fr';

describe('second language (French), end to end', () => {
  let run: LocalCampaign;
  let failed = false;
  afterEach((context) => {
    if (context.task.result?.state === 'fail') failed = true;
  });

  beforeAll(async () => {
    // Like `npm start`: the stack finds the shipped mirror itself (both worlds are in it). No codec:
    // the stages' inputs are read back from history below.
    delete process.env.HALA_HUB_MIRROR;
    delete process.env.HALA_CODEC_KEY;
    run = await runLocalCampaign('recipes/tiny-fr.yaml', ID, 'e2e-fr');
    console.log(`French campaign wall time: ${run.wallSeconds.toFixed(0)} s`);
  }, 40 * minutes);

  afterAll(async () => run?.stop(failed), 2 * minutes);

  const metrics = (stage: string) => run.result.progress.stages.find((s) => s.stage === stage)!.metrics;

  /** Every activity input the campaign's stages scheduled, decoded, as JSON text. */
  async function activityInputs(): Promise<string[]> {
    const out: string[] = [];
    for (const s of run.result.progress.stages) {
      const history = await run.client.workflow.getHandle(s.workflow_id).fetchHistory();
      for (const e of history.events ?? []) {
        for (const p of e.activityTaskScheduledEventAttributes?.input?.payloads ?? []) {
          out.push(JSON.stringify(defaultPayloadConverter.fromPayload(p)));
        }
      }
    }
    return out;
  }

  it('completes every stage', () => {
    expect(run.result.progress.stages.map((s) => `${s.stage}:${s.status}`)).toEqual(run.result.progress.stages.map((s) => `${s.stage}:completed`));
  });

  it('trains a translator into French that beats its untrained base by at least 15 chrF++ points', () => {
    const m = metrics('evaluate-translator');
    console.log(`French translator chrF++ ${m.base_chrf?.toFixed(1)} -> ${m.chrf?.toFixed(1)}, BLEU ${m.base_bleu?.toFixed(1)} -> ${m.bleu?.toFixed(1)}`);
    expect(m.chrf_gain).toBeGreaterThanOrEqual(15);
  });

  it('teaches the student the facts of the translated instructions: SFT beats its base on the MMLU-layout benchmark', () => {
    const byModel = scoresByModel(metrics('evaluate-hala-350m'));
    expect(Object.keys(byModel.base!).sort()).toEqual(['MMLU-fr', 'average']);
    const { base, sft, merged, chosen } = { base: byModel.base!.average!, sft: byModel.sft!.average!, merged: byModel.merged!.average!, chosen: byModel.chosen!.average! };
    console.log(`hala-350m (French): MMLU-fr base ${base}, sft ${sft}, merged ${merged}, chosen ${chosen}`);
    expect(base).toBeLessThan(35); // four options: chance is 25
    // Measured 27.0 -> 36.8 on 152 test rows (AMD EPYC, 2026-12-07): half the gain is the bar.
    expect(sft - base).toBeGreaterThan(5);
  });

  it('filters OPUS by the recipe\'s scripts and languages: Latin French kept, English in the French column caught by `fr` identification', () => {
    const m = metrics('filter-opus');
    console.log(`filter-opus (French): kept ${m.kept} of ${m.read} (${m.keep_rate?.toFixed(3)}), target_script ${m.target_script}, source_language ${m.source_language}, target_language ${m.target_language}`);
    // A filter that still expected the Arabic script would drop every pair here.
    expect(m.target_script).toBe(0);
    expect(m.keep_rate).toBeGreaterThan(0.75);
    // The world plants 63 English texts in the French column; the script filter cannot see them.
    expect(m.target_language).toBeGreaterThanOrEqual(20);
  });

  it('gives every stage the recipe\'s language: prompts into French, `fr` labels, the MMLU layout; nothing names Arabic', async () => {
    const inputs = (await activityInputs()).join('\n');
    expect(inputs).toContain('Translate everything that follows into French');
    expect(inputs).toContain('"target":["fr"]');
    expect(inputs).toContain('"target_script":"latin"');
    expect(inputs).toContain('"format":"mmlu"');
    expect(inputs).not.toMatch(/arabic/i);
    // Decontamination ran on both corpora against the benchmark in its MMLU layout (a layout it did not
    // know would have failed the stage); a count per set appears only for a set that matched rows.
    expect(metrics('build-bilingual-corpus')).toHaveProperty('decontaminated');
    expect(metrics('translate-instructions')).toHaveProperty('decontaminated');
  });
});

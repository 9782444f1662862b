// The Hala recipe as one durable workflow. Each stage is a child workflow with the id
// `<campaign>/<stage>`; independent stages run at the same time. Read top to bottom, it is RECIPE.md.
import {
  ApplicationFailure,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  setHandler,
  type Workflow,
} from '@temporalio/workflow';
import type { CampaignInput, CampaignProgress } from '../contracts/campaign';
import { HalaCampaign, HalaModel, HalaRecipeHash, HalaStage } from '../contracts/search-attributes';
import { cpuActivities } from './activity-proxies';
import { buildBilingualCorpus } from './build-bilingual-corpus';
import { compressTeacher } from './compress-teacher';
import { pauseSignal, progressQuery, resumeSignal } from './definitions';
import { evaluateTranslator } from './evaluate-translator';
import { filterOpus } from './filter-opus';
import type { StageContext, StageOutcome } from './stage';
import { StageTracker } from './stage-tracker';
import { evaluate, merge, sft } from './student';
import { trainTranslator } from './train-translator';
import { translateInstructions } from './translate-instructions';
import { translatePauseSignal } from './translate-corpus';

export interface CampaignResult {
  campaign_id: string;
  progress: CampaignProgress;
  report_uri: string;
}

export async function campaign(input: CampaignInput): Promise<CampaignResult> {
  const { recipe } = input;
  const ctx: StageContext = {
    campaign_id: input.campaign_id,
    recipe,
    store_root: input.store_root,
    use_cache: input.use_cache,
    rerun: input.rerun,
    code_version: input.code_version,
    recipe_sha256: input.recipe_sha256,
  };
  const tracker = new StageTracker(input.campaign_id);
  const students = recipe.stages.sft.students;
  for (const name of [
    'compress-teacher', 'filter-opus', 'build-bilingual-corpus', 'train-translator',
    'translate-instructions', 'evaluate-translator',
    ...students.flatMap((s) => [`sft-${s.name}`, `merge-${s.name}`, `evaluate-${s.name}`]),
  ]) tracker.planned(name);

  let paused = false;
  let state: CampaignProgress['state'] = 'running';
  setHandler(progressQuery, () => tracker.snapshot(paused && state === 'running' ? 'paused' : state));
  setHandler(pauseSignal, () => setPaused(true));
  setHandler(resumeSignal, () => setPaused(false));
  function setPaused(value: boolean) {
    paused = value;
    // Running fan-outs stop taking new shards too (their ids are `<stage workflow>/translate…`).
    for (const id of tracker.running()) {
      for (const child of [`${id}/translate`, ...recipe.inputs.instruction_sets.map((s) => `${id}/translate-${s.name}`)]) {
        getExternalWorkflowHandle(child).signal(translatePauseSignal, value).catch(() => undefined);
      }
    }
  }

  /** Run one stage workflow: wait while paused, track it, fail the campaign with its name. */
  async function stage<A extends unknown[], O>(
    name: string,
    model: string,
    workflow: Workflow & ((...args: A) => Promise<StageOutcome<O>>),
    ...args: A
  ): Promise<StageOutcome<O>> {
    await condition(() => !paused);
    tracker.started(name);
    try {
      const outcome = await executeChild(workflow, {
        workflowId: tracker.workflowId(name),
        args,
        // What an operator filters on in the UI: `HalaCampaign = "…" AND HalaStage = "…"`.
        typedSearchAttributes: [
          { key: HalaCampaign, value: input.campaign_id },
          { key: HalaStage, value: name },
          { key: HalaRecipeHash, value: input.recipe_sha256 },
          { key: HalaModel, value: model },
        ],
        memo: { campaign: input.campaign_id, stage: name, recipe: recipe.name },
      });
      tracker.finished(name, outcome);
      return outcome;
    } catch (err) {
      tracker.failed(name, err);
      state = 'failed';
      throw ApplicationFailure.create({ message: `stage ${name} failed`, cause: err as Error, nonRetryable: true });
    }
  }

  // 1–2. Compress the teacher to FP8 (and check it), while OPUS-100 is filtered.
  const [teacher, opus] = await Promise.all([
    stage('compress-teacher', recipe.inputs.teacher, compressTeacher, ctx),
    stage('filter-opus', recipe.inputs.opus, filterOpus, ctx),
  ]);
  // 3. The FP8 teacher translates Open-Orca; with OPUS this is the bilingual corpus.
  const corpus = await stage('build-bilingual-corpus', recipe.inputs.teacher, buildBilingualCorpus, {
    ctx,
    teacher: teacher.output.compressed.model,
    opus_pairs: opus.output.pairs,
  });
  // 4. Fine-tune the translator on it.
  const translator = await stage('train-translator', recipe.stages.train_translator.base, trainTranslator, { ctx, corpus: corpus.output.dataset });
  // 5. The translator translates the instruction sets; meanwhile it is scored against its base.
  const [instructions] = await Promise.all([
    stage('translate-instructions', recipe.stages.train_translator.base, translateInstructions, { ctx, translator: translator.output.model }),
    stage('evaluate-translator', recipe.stages.train_translator.base, evaluateTranslator, { ctx, translator: translator.output.model }),
  ]);
  // 6–8. Every student at once: SFT on the translated corpus, slerp with its base, benchmarks.
  await Promise.all(
    students.map(async (student) => {
      const tuned = await stage(`sft-${student.name}`, student.base, sft, { ctx, student, corpus: instructions.output.dataset });
      const merged = await stage(`merge-${student.name}`, student.base, merge, { ctx, student, tuned: tuned.output.model });
      await stage(`evaluate-${student.name}`, student.base, evaluate, { ctx, student, model: merged.output.model });
    }),
  );

  state = 'completed';
  const progress = tracker.snapshot(state);
  const report = await cpuActivities(recipe).writeCampaignReport({
    store_root: input.store_root,
    campaign_id: input.campaign_id,
    report: { campaign_id: input.campaign_id, recipe: recipe.name, recipe_sha256: input.recipe_sha256, progress },
  });
  return { campaign_id: input.campaign_id, progress, report_uri: report.uri };
}

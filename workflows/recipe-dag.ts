// The Hala recipe as stage calls: the one statement of which stage reads which artifacts of which.
// It is a pure function of the recipe and a `stage()` runner: the campaign runs it with the durable
// stage (workflows/campaign.ts: gates, pause, a child workflow each), `hala plan` dry-runs it with a
// recording stage (workflows/stages/plan.ts) for the graph, its rows and the critical path. Read top
// to bottom, it is RECIPE.md.
import type { Recipe } from '../contracts/recipe';
import type { StageDeclaration, StageOutcome } from './stages/declaration';
import { stages } from './stages';
import { chosenTeacher } from './checks';

/** Runs stage `i` of a kind on the artifacts it reads (`upstream`), resolving to its outcome. */
export type RunStage = <S, U, O>(declaration: StageDeclaration<S, U, O>, upstream: U, i?: number) => Promise<StageOutcome<O>>;

/**
 * Waits for every branch, even after one fails, so a failure never cancels work that does not depend
 * on it (the campaign's children would be terminated with it); then rejects with the first failure.
 */
export async function allOf<T extends readonly unknown[]>(branches: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const settled = await Promise.allSettled(branches);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * True when the campaign runs a change to this DAG made within its release: the campaign answers
 * with Temporal's `patched()` (a campaign started before the change replays without it), the plan
 * with true. A stage added within a release runs behind `since('<change>')`; at the next release
 * (contracts/version.ts) the condition goes.
 */
export type Since = (change: string) => boolean;

export async function recipeDag(recipe: Recipe, stage: RunStage, _since: Since): Promise<void> {
  // 1–2. Compress the teacher to FP8 (and check it), while OPUS-100 is filtered.
  const [teacher, opus] = await allOf([stage(stages['compress-teacher'], {}), stage(stages['filter-opus'], {})]);
  // 3. The FP8 teacher translates Open-Orca; with OPUS this is the bilingual corpus.
  // (Or the BF16 teacher, where a check after compress-teacher chose it: workflows/checks.ts.)
  const corpus = await stage(stages['build-bilingual-corpus'], { teacher: chosenTeacher(recipe, teacher), opus_pairs: opus.output.pairs });
  // 4. Fine-tune the translator on it.
  const translator = await stage(stages['train-translator'], { corpus: corpus.output.dataset });
  // 5. The translator is scored against its base while it translates the instruction sets and,
  // 6–8. every student at once does SFT on the translated corpus, slerp with its base, then keeps
  // the best of SFT, merged and the sweep on the validation split (unless the recipe chooses not to),
  // and benchmarks it beside SFT and merged on the test rows.
  // A check after evaluate-translator (a chrF++ floor) holds the translation until it has passed.
  const evaluated = stage(stages['evaluate-translator'], { translator: translator.output.model });
  const floor = recipe.checks.some((c) => c.after === 'evaluate-translator');
  await allOf([
    evaluated,
    (async () => {
      if (floor) await evaluated;
      const instructions = await stage(stages['translate-instructions'], { translator: translator.output.model });
      await allOf(
        recipe.stages.sft.students.map(async (_student, i) => {
          const tuned = await stage(stages.sft, { corpus: instructions.output.dataset }, i);
          const merged = await stage(stages.merge, { tuned: tuned.output.model }, i);
          const chosen = recipe.stages.choose.enabled ? await stage(stages.choose, { tuned: tuned.output.model, merged: merged.output.model }, i) : undefined;
          await stage(stages.evaluate, { model: merged.output.model, tuned: tuned.output.model, ...(chosen && { chosen: chosen.output.model, evidence: chosen.output.evidence }) }, i);
        }),
      );
    })(),
  ]);
}

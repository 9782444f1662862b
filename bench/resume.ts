// Usage: npx tsx bench/resume.ts [--quick]
// Work redone after a kill, on the real local stack (dev server, CPU worker, Python workers on CPU)
// running the tiny campaign up to its trained translator. The chaos suite's faults
// (test/e2e/chaos/faults.ts) kill -9 the infer worker with a teacher shard of build-bilingual-corpus
// half translated, and kill -9 the train runner of train-translator halfway between two checkpoints.
// Gates before the stages that read the translator hold the campaign there; it is then terminated.
// Rows and steps redone come from the retried activities' own results (resumed_rows,
// resumed_from_step) and what the killed attempt had reported (finished chunks counted in the store,
// the last heartbeat's step). The translator trains 1 epoch (--quick: 0.5) instead of tiny.yaml's 3,
// to stay within minutes. Prints figures; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { loadRecipe } from '../cli/recipe-file';
import { startCampaign } from '../cli/start-campaign';
import type { CampaignProgress } from '../contracts/campaign';
import type { Recipe } from '../contracts/recipe';
import type { campaign } from '../workflows/campaign';
import { progressQuery } from '../workflows/definitions';
import { startLocalStack } from '../workers/local-stack';
import { freePort } from '../test/support/ports';
import { checkpointStep, killInferWorkerMidTranslate, killTrainRunner, unleash, type Strike } from '../test/e2e/chaos/faults';
import { activityOutcome, type ActivityOutcome } from '../test/e2e/chaos/observe';
import { printBenchLine, type BenchRow } from './lib/bench-line';
import { describeMachine } from './lib/machine';
import { installQuietRuntime } from './lib/quiet-runtime';
import { loadAverage } from './lib/load-average';

const CAMPAIGN = 'bench-resume';
const TRANSLATE_STAGE = 'build-bilingual-corpus';
const TRAIN_STAGE = 'train-translator';
/** The train runner's progress events come every this many steps (TrainConfig.logging_steps in runners/train.py). */
const PROGRESS_EVERY_STEPS = 10;

/** tiny.yaml, stopped after the translator by gates on both stages that read it, its training shortened. */
function benchRecipe(storeRoot: string, epochs: number): { recipe: Recipe; sha256: string } {
  const loaded = loadRecipe(path.join(__dirname, '../recipes/tiny.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const r = loaded.recipe;
  const recipe: Recipe = {
    ...r,
    store: { ...r.store, root: storeRoot },
    // A dead worker's activity moves on after 20 s of silence, as in the chaos suite.
    timeouts: { ...r.timeouts, heartbeat_s: 20, stall_s: 60 },
    stages: { ...r.stages, train_translator: { ...r.stages.train_translator, epochs } },
    gates: [
      { name: 'bench-stop-translate', before: 'translate-instructions', show: { samples: 0 } },
      { name: 'bench-stop-evaluate', before: 'evaluate-translator', show: { samples: 0 } },
    ],
  };
  return { recipe, sha256: loaded.sha256 };
}

/** Polls the campaign until the translator is trained (or a stage failed); the gates hold everything after it. */
async function translatorTrained(handle: WorkflowHandle<typeof campaign>, timeoutMs: number): Promise<CampaignProgress> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 1000))) {
    const progress = await handle.query(progressQuery);
    const failed = progress.stages.find((s) => s.status === 'failed');
    if (failed) throw new Error(`resume: stage ${failed.stage} failed (${failed.error_type}: ${failed.error}); the faults should only slow it down`);
    if (progress.stages.find((s) => s.stage === TRAIN_STAGE)?.status === 'completed') return progress;
    if (Date.now() > deadline) throw new Error(`resume: ${TRAIN_STAGE} not finished after ${timeoutMs / 60_000} min`);
  }
}

const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
const retried = (o: ActivityOutcome) => `attempt ${o.attempt} after ${o.lastFailure ?? 'no failure'}`;

interface Measured {
  row: BenchRow;
  line: string;
}

/**
 * Rows redone = finished rows the retry did not take over (finished minus resumed_rows) plus the chunk
 * that was being generated when the engine died (the rest of the shard, at most one batch).
 */
async function rowsRedone(client: Client, strike: Strike | undefined, stageRows: number, batch: number): Promise<Measured> {
  const figure = `rows redone after kill -9 of the infer worker mid-translate (${TRANSLATE_STAGE}, ${stageRows} rows)`;
  const target = `≤ the chunk in flight (batch ${batch} rows)`;
  if (!strike) return { row: { figure, hala: 'not measured: no shard was caught half translated', peers: {}, target, met: null }, line: `  translate: never struck` };
  const outcome = await activityOutcome(client, strike.victim.workflowId, strike.victim.activityId);
  const shardRows = Number(outcome.result?.rows);
  const finished = strike.victim.progress!.done;
  const reused = Number(outcome.result?.resumed_rows);
  const inFlight = Math.min(batch, shardRows - finished);
  const redone = finished - reused + inFlight;
  return {
    row: { figure, hala: `${redone} of ${stageRows} rows (${pct(redone, stageRows)})`, peers: {}, target, met: redone <= batch },
    line:
      `  translate: killed with ${finished} of its shard's ${shardRows} rows in finished chunks; ${retried(outcome)} reused ${reused}; ` +
      `redone: ${finished - reused} finished + ${inFlight} in flight = ${redone} of the stage's ${stageRows} rows (${pct(redone, stageRows)})`,
  };
}

/** Steps redone = the step the runner had reported when it was killed minus the step its retry resumed from. */
async function stepsRedone(client: Client, strike: Strike | undefined, interval: number, loggingEvery: number): Promise<Measured> {
  const figure = `steps redone after kill -9 of the train runner mid-train (${TRAIN_STAGE}, checkpoint every ${interval} steps)`;
  const target = `≤ the checkpoint interval (${interval} steps)`;
  if (!strike) return { row: { figure, hala: 'not measured: the train runner was never killed', peers: {}, target, met: null }, line: `  train: never struck` };
  const outcome = await activityOutcome(client, strike.victim.workflowId, strike.victim.activityId);
  const { done: killedAt, total } = strike.victim.progress!;
  const resumedFrom = Number(outcome.result?.resumed_from_step);
  const redone = killedAt - resumedFrom;
  return {
    row: { figure, hala: `${redone} of ${total} steps (${pct(redone, total)})`, peers: {}, target, met: redone <= interval },
    line:
      `  train: killed at step ${killedAt}/${total} (its last heartbeat; progress comes every ${loggingEvery} steps, so it may have gone a few further); ` +
      `${retried(outcome)} resumed from step ${resumedFrom}: ${redone} steps redone (${pct(redone, total)}), ${outcome.result?.steps} steps in all`,
  };
}

async function main() {
  installQuietRuntime();
  const quick = process.argv.includes('--quick');
  const epochs = quick ? 0.5 : 1;
  const machine = describeMachine();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'hala-bench-resume-'));
  // Plain payloads, so heartbeats can be read from describe() as the chaos suite does.
  delete process.env.HALA_CODEC_KEY;
  const stack = await startLocalStack({
    stateDir,
    ephemeral: true,
    port: await freePort(),
    uiPort: await freePort(),
    // Heartbeats reach the server every 0.2 s, so the kills strike close to what was last reported.
    workerEnv: { HALA_WORK_DIR: path.join(stateDir, 'work'), HALA_HEARTBEAT_THROTTLE_S: '0.2' },
  });
  let keepState = true;
  try {
    const client = new Client({ connection: await Connection.connect({ address: stack.address }) });
    const { recipe, sha256 } = benchRecipe(stack.storeRoot, epochs);
    const interval = recipe.stages.train_translator.save_every_steps;
    console.log(`resume: tiny campaign up to ${TRAIN_STAGE} (${epochs} epoch, checkpoint every ${interval} steps) on the local stack; ${machine}; load average ${loadAverage()}`);

    const t0 = Date.now();
    const handle = await startCampaign(client, recipe, sha256, { id: CAMPAIGN });
    let finished = false;
    const faults = [
      killInferWorkerMidTranslate([TRANSLATE_STAGE]),
      // Halfway between the first checkpoint and the next: a kill at a random step loses half an interval on average.
      killTrainRunner([TRAIN_STAGE], (a) => {
        const p = a.progress;
        const saved = checkpointStep(p?.checkpoint_uri);
        return a.activityType === 'train_sft' && p?.phase === 'train' && saved > 0 && p.done >= saved + interval / 2;
      }),
    ];
    const striking = unleash(client, stack, CAMPAIGN, faults, () => finished, (line) => console.log(`  ${line}`));
    const progress = await translatorTrained(handle, 20 * 60_000).finally(() => (finished = true));
    const strikes = await striking;
    console.log(`  campaign reached its gates after ${((Date.now() - t0) / 1000).toFixed(0)} s; terminated there`);
    await handle.terminate('bench/resume.ts: measured up to the trained translator');

    const stageRows = Number(progress.stages.find((s) => s.stage === TRANSLATE_STAGE)?.metrics.teacher_segments);
    const byScenario = (prefix: string) => strikes.find((s) => s.scenario.startsWith(prefix));
    const rows = await rowsRedone(client, byScenario('kill -9 the Python infer worker'), stageRows, recipe.generation.teacher.batch_size);
    const steps = await stepsRedone(client, byScenario('kill -9 the Python train runner'), interval, PROGRESS_EVERY_STEPS);
    console.log(rows.line);
    console.log(steps.line);
    printBenchLine('resume', [rows.row, steps.row], `tiny world: ${stageRows} teacher segments in shards of ${recipe.stages.build_bilingual_corpus.shard_rows}; translator ${epochs} epoch (load average ${loadAverage()} at the end)`, machine);
    keepState = false;
  } finally {
    await stack.stop();
    if (keepState) console.error(`resume: logs kept in ${stateDir}/logs`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

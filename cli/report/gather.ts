// Everything `hala report` shows, read from the campaign's stages and the store: manifests (each
// stage's activities and output), loss histories, lineage records. Rendering is elsewhere (render-html).
import { readFile } from 'node:fs/promises';
import type { StageReport } from '../../contracts/campaign';
import { LossHistory, type TrainSftOutput } from '../../contracts/gpu-activities';
import type { ActivitySummary } from '../../contracts/lineage';
import { type ArtifactStore, storeLayout } from '../../activities/store';
import type { StageManifest } from '../../activities/stage-cache';
import { walkLineage } from '../lineage';
import { lineageLoader } from '../lineage-source';
import type { CampaignView } from './campaign-source';
import type { ReportData, StageRow, StudentBenchmarks } from './report-data';
import { stageCost } from './stage-cost';
import { BENCHMARKED_MODELS, scoresByModel } from '../../contracts/benchmark-scores';
import { decisionLine } from '../../workflows/stages/choice';

/** What closeStage kept of a stage's work (run-stage.ts StageWork): its payload and its GPU activities. */
interface ManifestWork {
  output?: unknown;
  activities?: ActivitySummary[];
}

const finished = (s: StageReport) => s.status === 'completed' || s.status === 'cached';

export async function gatherReport(view: CampaignView, store: ArtifactStore, now = new Date()): Promise<ReportData> {
  const { progress, recipe } = view;
  const missing: string[] = [];
  if (view.recipe_note) missing.push(`cost: ${view.recipe_note}`);

  const manifests = new Map<string, StageManifest>();
  for (const s of progress.stages.filter(finished)) {
    const uri = s.stage_key ? storeLayout.manifest(store.rootUri, s.stage_key) : undefined;
    if (uri && (await store.exists(uri))) manifests.set(s.stage, JSON.parse((await store.getBytes(uri)).toString('utf8')) as StageManifest);
    else missing.push(`${s.stage}: no manifest in ${store.rootUri}, so no GPU-hours, no loss curve (another store? pass --store)`);
  }

  const stages: StageRow[] = progress.stages.map((s) => {
    const manifest = manifests.get(s.stage);
    const cached = s.status === 'cached';
    const row: StageRow = {
      stage: s.stage,
      kind: s.kind,
      workflow_id: s.workflow_id,
      status: s.status,
      ...(s.started_at ? { started_at: s.started_at } : {}),
      ...(s.ended_at ? { ended_at: s.ended_at } : {}),
      cached,
      ...(cached && manifest ? { produced_by: manifest.produced_by.campaign_id } : {}),
      ...(s.error ? { error: `${s.error_type ?? 'Error'}: ${s.error}` } : {}),
      classes: {},
    };
    if (!manifest) return { ...row, cost_note: s.status === 'failed' ? 'failed: a failed attempt reports no GPU time' : `${s.status}: not finished` };
    const cost = stageCost((manifest.output as ManifestWork).activities ?? [], recipe, s.stage, s.kind);
    return {
      ...row,
      gpu_seconds: cost.gpu_seconds,
      gpu_hours: cost.gpu_seconds / 3600,
      classes: cost.classes,
      ...(cost.cost !== undefined ? { cost: cost.cost } : {}),
      ...(cost.note ? { cost_note: cost.note } : {}),
    };
  });

  // This campaign's own bill: cached stages were paid for by the campaign that produced them.
  const own = stages.filter((s) => !s.cached && s.gpu_hours !== undefined);
  const unpriced = own.filter((s) => s.cost === undefined && (s.gpu_hours ?? 0) > 0);
  const total = {
    gpu_hours: own.reduce((sum, s) => sum + (s.gpu_hours ?? 0), 0),
    ...(unpriced.length === 0 ? { cost: own.reduce((sum, s) => sum + (s.cost ?? 0), 0) } : { note: `no total cost: ${unpriced.map((s) => s.stage).join(', ')} ran on unpriced pools` }),
  };

  return {
    campaign_id: progress.campaign_id,
    ...(view.recipe_name ? { recipe: view.recipe_name } : {}),
    state: progress.state,
    source: view.source,
    generated_at: now.toISOString(),
    stages,
    cost: total,
    loss: await lossCurves(progress.stages, manifests, store, missing),
    translation: translation(progress.stages, missing),
    benchmarks: benchmarks(progress.stages, missing),
    funnel: funnel(progress.stages, missing),
    ...(progress.checks && { checks: progress.checks }),
    lineage: await walkLineage(
      progress.stages.filter(finished).flatMap((s) => s.artifacts.map((a) => a.sha256)),
      lineageLoader(store),
    ),
    missing,
  };
}

const TRAINING = new Set(['train-translator', 'sft']);

async function lossCurves(stages: StageReport[], manifests: Map<string, StageManifest>, store: ArtifactStore, missing: string[]): Promise<ReportData['loss']> {
  const curves: ReportData['loss'] = [];
  for (const s of stages.filter((s) => TRAINING.has(s.kind))) {
    const manifest = manifests.get(s.stage);
    if (!manifest) {
      if (!finished(s)) missing.push(`loss curve of ${s.stage}: the stage is ${s.status}`);
      continue;
    }
    const ref = ((manifest.output as ManifestWork).output as Partial<TrainSftOutput> | undefined)?.loss_history;
    if (!ref) {
      missing.push(`loss curve of ${s.stage}: its run kept no loss history (trained before loss histories were recorded)`);
      continue;
    }
    const parsed = LossHistory.safeParse(JSON.parse(await readFile(await store.fetchToLocal(ref), 'utf8')));
    if (!parsed.success) missing.push(`loss curve of ${s.stage}: ${ref.uri} is not a loss history (${parsed.error.issues[0]?.message})`);
    else if (parsed.data.points.length === 0) missing.push(`loss curve of ${s.stage}: no step was logged (a run shorter than logging_steps)`);
    else curves.push({ stage: s.stage, points: parsed.data.points });
  }
  return curves;
}

/** A stage's metrics, or undefined (saying so) when it has not finished. */
function metricsOf(stages: StageReport[], kind: string, what: string, missing: string[]): Record<string, number> | undefined {
  const s = stages.find((x) => x.kind === kind);
  if (s && finished(s)) return s.metrics;
  missing.push(`${what}: ${s ? `${s.stage} is ${s.status}` : `the campaign has no ${kind} stage`}`);
  return undefined;
}

function pair(m: Record<string, number>, bleu: string, chrf: string) {
  return m[bleu] !== undefined && m[chrf] !== undefined ? { bleu: m[bleu], chrf: m[chrf] } : undefined;
}

function translation(stages: StageReport[], missing: string[]): ReportData['translation'] {
  const out: ReportData['translation'] = {};
  const teacher = metricsOf(stages, 'compress-teacher', 'teacher BF16 vs FP8', missing);
  if (teacher) {
    const bf16 = pair(teacher, 'bf16_bleu', 'bf16_chrf');
    const fp8 = pair(teacher, 'fp8_bleu', 'fp8_chrf');
    if (bf16 && fp8) out.teacher = { bf16, fp8 };
    else missing.push('teacher BF16 vs FP8: compress-teacher recorded no BLEU / chrF++ (a cached stage of an older version?)');
  }
  const translator = metricsOf(stages, 'evaluate-translator', 'translator base vs tuned', missing);
  if (translator) {
    const base = pair(translator, 'base_bleu', 'base_chrf');
    const tuned = pair(translator, 'bleu', 'chrf');
    if (base && tuned) out.translator = { base, tuned };
    else missing.push('translator base vs tuned: evaluate-translator recorded no BLEU / chrF++');
  }
  return out;
}

function benchmarks(stages: StageReport[], missing: string[]): StudentBenchmarks[] {
  const out: StudentBenchmarks[] = [];
  for (const s of stages.filter((x) => x.kind === 'evaluate')) {
    const student = s.stage.replace(/^evaluate-/, '');
    if (!finished(s)) {
      missing.push(`benchmarks of ${student}: ${s.stage} is ${s.status}`);
      continue;
    }
    // Bars per benchmark; the average is not a benchmark of its own.
    const series = Object.fromEntries(Object.entries(scoresByModel(s.metrics)).map(([m, scores]) => [m, Object.fromEntries(Object.entries(scores).filter(([k]) => k !== 'average'))]));
    const choice = stages.find((c) => c.kind === 'choose' && c.stage === `choose-${student}` && finished(c));
    const line = choice && decisionLine(choice.metrics);
    // A recipe that does not choose benchmarks no chosen model: nothing is missing then.
    out.push({ student, stage: s.stage, series, missing: BENCHMARKED_MODELS.filter((m) => !series[m] && (m !== 'chosen' || choice)), ...(line && { choice: line }) });
  }
  if (out.some((b) => b.missing.some((m) => m !== 'chosen'))) missing.push('benchmarks: this campaign benchmarked the merged model only (it began before base and SFT were benchmarked too), so only its series is shown');
  return out;
}

function funnel(stages: StageReport[], missing: string[]): ReportData['funnel'] {
  const filter = metricsOf(stages, 'filter-opus', 'corpus filter funnel', missing);
  const corpus = metricsOf(stages, 'build-bilingual-corpus', 'bilingual corpus', missing);
  return { ...(filter ? { filter } : {}), ...(corpus ? { corpus } : {}) };
}

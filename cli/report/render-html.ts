// The report as one self-contained HTML file: the data, the tables and Apache ECharts itself inline,
// so it opens anywhere, offline, and nothing it shows can change after it was written.
import { checkOutcome } from '../check-summary';
import { readFileSync } from 'node:fs';
import { benchmarkCharts, costChart, funnelCharts, lossChart, timelineChart, translationCharts, type ChartSpec } from './charts';
import { lineageSvg } from './lineage-svg';
import type { ReportData, StageRow } from './report-data';
import { BENCHMARKED_MODELS } from '../../contracts/benchmark-scores';

const echartsSource = () => readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON inside <script>: no `</script>` or `<!--` can close or confuse the element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
/** Fixed decimals, except small non-zero figures (a toy campaign's GPU-hours) keep three significant digits. */
const num = (x: number | undefined, digits = 3) => (x === undefined ? '—' : x !== 0 && Math.abs(x) < 10 ** -digits * 100 ? x.toPrecision(3) : x.toFixed(digits));
const dash = '—';
const LINEAGE_TITLE = "Lineage: raw sources (left) to the campaign's artifacts (right); one box for nodes that share their inputs and their readers; hover a box for its full ids";

function table(head: string[], rows: (string | number)[][]): string {
  const cells = (r: (string | number)[], tag: string) => r.map((c) => `<${tag}>${escapeHtml(String(c))}</${tag}>`).join('');
  return `<table><thead><tr>${cells(head, 'th')}</tr></thead><tbody>${rows.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('')}</tbody></table>`;
}

/** The time of day (UTC) of an ISO timestamp: a campaign's stages share their date, which the header gives. */
const clock = (iso: string | undefined) => (iso ? iso.slice(11, 23) : dash);
const seconds = (s: StageRow) => (s.started_at && s.ended_at ? ((Date.parse(s.ended_at) - Date.parse(s.started_at)) / 1000).toFixed(1) : dash);

function stageTable(data: ReportData): string {
  return table(
    ['stage', 'status', 'started (UTC)', 'ended (UTC)', 's', 'GPU-hours', 'pools', 'cost', 'note'],
    data.stages.map((s) => [
      s.stage,
      s.status,
      clock(s.started_at),
      clock(s.ended_at),
      seconds(s),
      num(s.gpu_hours, 6),
      Object.entries(s.classes).map(([role, c]) => `${role}: ${c}`).join(', ') || dash,
      num(s.cost, 4),
      [s.cached && s.produced_by ? `cached: paid by ${s.produced_by}` : '', s.cost_note ?? '', s.error ?? ''].filter(Boolean).join('; '),
    ]),
  );
}

function chartBox(c: ChartSpec): string {
  return `<figure><figcaption>${escapeHtml(c.title)}</figcaption><div class="chart" id="chart-${c.id}" style="height:${c.height}px"></div></figure>`;
}

function section(title: string, body: string[], charts: ChartSpec[], absent: string): string {
  const content = [...body, ...charts.map(chartBox)].join('\n');
  return `<section><h2>${escapeHtml(title)}</h2>${content || `<p class="missing">${escapeHtml(absent)}</p>`}</section>`;
}

/** The page; `now` draws running stages' bars up to it. */
export function renderReportHtml(data: ReportData, now = new Date(data.generated_at)): string {
  const timeline = timelineChart(data, now);
  const cost = costChart(data);
  const loss = lossChart(data);
  const lineage = lineageSvg(data.lineage);
  const translation = translationCharts(data);
  const bench = benchmarkCharts(data);
  const funnel = funnelCharts(data);
  const charts = [timeline, cost, loss, ...translation, ...bench, ...funnel].filter((c): c is ChartSpec => c !== undefined);
  const { teacher, translator } = data.translation;
  const scoreRows = [
    ...(teacher ? [['teacher BF16', teacher.bf16.bleu, teacher.bf16.chrf], ['teacher FP8', teacher.fp8.bleu, teacher.fp8.chrf]] : []),
    ...(translator ? [['translator base', translator.base.bleu, translator.base.chrf], ['translator tuned', translator.tuned.bleu, translator.tuned.chrf]] : []),
  ].map(([n, b, c]) => [n!, num(b as number, 2), num(c as number, 2)]);
  const benchRows = data.benchmarks.flatMap((b) =>
    BENCHMARKED_MODELS.filter((v) => v !== 'chosen' || b.choice).map((v) => [
      b.student,
      v === 'chosen' ? `chosen (${b.choice})` : v,
      ...(b.series[v] ? [Object.entries(b.series[v]).map(([k, x]) => `${k} ${num(x, 2)}`).join(', ')] : ['not benchmarked']),
    ]),
  );
  const corpus = data.funnel.corpus;
  const total = `${num(data.cost.gpu_hours, 4)} GPU-hours${data.cost.cost !== undefined ? `, cost ${num(data.cost.cost, 2)}` : `, cost ${dash}${data.cost.note ? ` (${data.cost.note})` : ''}`}`;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Hala report: ${escapeHtml(data.campaign_id)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #1f2933; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0; } th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
th { background: #f4f5f7; } figure { margin: 12px 0; } figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
.chart { width: 100%; } .lineage-scroll { overflow-x: auto; } .missing { color: #8a5a00; } .meta { color: #52606d; font-size: 13px; }
</style></head>
<body>
<h1>Campaign ${escapeHtml(data.campaign_id)}</h1>
<p class="meta">recipe ${escapeHtml(data.recipe ?? dash)} · state <b>${escapeHtml(data.state)}</b> · from ${data.source === 'summary' ? 'its summary in the store' : 'the running campaign'} · generated ${escapeHtml(data.generated_at)} · this campaign ran ${escapeHtml(total)}</p>
${section('Stages', [stageTable(data)], timeline ? [timeline] : [], '')}
${section('GPU-hours and cost', [], cost ? [cost] : [], 'No stage recorded GPU time yet.')}
${section('Training loss', [], loss ? [loss] : [], 'No loss curve: see below for why.')}
${section('Translation quality (BLEU / chrF++)', scoreRows.length ? [table(['model', 'BLEU', 'chrF++'], scoreRows)] : [], translation, 'No translation scores yet.')}
${section('Benchmarks', benchRows.length ? [table(['student', 'model', 'scores'], benchRows)] : [], bench, 'No benchmark scores yet.')}
${data.checks ? section('Checks', [table(['check', 'figures', 'outcome'], data.checks.map((c) => [c.check, c.message, checkOutcome(c, data.campaign_id)]))], [], '') : ''}
${section('Corpus', corpus ? [table(['figure', 'value'], Object.entries(corpus).map(([k, v]) => [k, v]))] : [], funnel, 'No corpus figures yet.')}
${section('Lineage', lineage ? [`<figure><figcaption>${escapeHtml(LINEAGE_TITLE)}</figcaption><div class="lineage-scroll" id="lineage">${lineage}</div></figure>`] : [], [], 'No lineage records: no stage has finished.')}
${section('Not shown', data.missing.length ? [`<ul>${data.missing.map((m) => `<li class="missing">${escapeHtml(m)}</li>`).join('')}</ul>`] : ['<p>Everything the report knows how to show is here.</p>'], [], '')}
<script type="application/json" id="hala-report-data">${scriptJson(data)}</script>
<script type="application/json" id="hala-report-charts">${scriptJson(charts.map((c) => ({ id: c.id, option: c.option })))}</script>
<script>${echartsSource()}</script>
<script>
// Each chart flags itself when ECharts has finished drawing it (the browser test waits on these).
window.halaCharts = {};
for (const spec of JSON.parse(document.getElementById('hala-report-charts').textContent)) {
  window.halaCharts[spec.id] = false;
  const chart = echarts.init(document.getElementById('chart-' + spec.id), null, { renderer: 'canvas' });
  chart.on('finished', () => { window.halaCharts[spec.id] = true; });
  chart.setOption(spec.option);
  window.addEventListener('resize', () => chart.resize());
}
</script>
</body></html>
`;
}

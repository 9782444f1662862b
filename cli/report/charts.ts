// The report's charts as ECharts options: plain JSON (no formatter functions), so the page only
// hands each one to echarts.init. One function per chart; a chart exists only when it has data.
import type { ReportData, ScorePair } from './report-data';

export interface ChartSpec {
  id: string;
  title: string;
  /** Pixels: the page sizes the chart's box before ECharts draws into it. */
  height: number;
  option: Record<string, unknown>;
}

const STATUS_COLOURS = { completed: '#3a9d5d', cached: '#9aa5b1', failed: '#d64545', running: '#3b82f6', pending: '#e0e0e0' } as const;
// ECharts 6 puts a legend at the bottom unless told, over the axis labels: every legend here is `top: 0`.
const base = { animation: false, tooltip: {}, textStyle: { fontFamily: 'system-ui, sans-serif' } };
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

export function timelineChart(data: ReportData, now: Date): ChartSpec | undefined {
  const started = data.stages.filter((s) => s.started_at);
  if (started.length === 0) return undefined;
  const t0 = Math.min(...started.map((s) => Date.parse(s.started_at!)));
  const names = data.stages.map((s) => s.stage);
  const offset = data.stages.map((s) => (s.started_at ? round((Date.parse(s.started_at) - t0) / 1000) : 0));
  const statuses = (['completed', 'cached', 'failed', 'running'] as const).filter((st) => data.stages.some((s) => s.status === st && s.started_at));
  const series = statuses.map((st) => ({
    name: st,
    type: 'bar',
    stack: 'timeline',
    itemStyle: { color: STATUS_COLOURS[st] },
    // A running stage's bar reaches now; a bar of at least a pixel even for a stage that took no time.
    data: data.stages.map((s) => (s.status === st && s.started_at ? Math.max(round(((s.ended_at ? Date.parse(s.ended_at) : now.getTime()) - Date.parse(s.started_at)) / 1000), 0.001) : 0)),
  }));
  return {
    id: 'timeline',
    title: 'Stage timeline (seconds since the first stage started)',
    height: 60 + 28 * names.length,
    option: {
      ...base,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0, data: statuses },
      grid: { left: 200, right: 40, top: 40, bottom: 30 },
      xAxis: { type: 'value', name: 's' },
      yAxis: { type: 'category', data: names, inverse: true },
      series: [{ name: 'waiting', type: 'bar', stack: 'timeline', silent: true, itemStyle: { color: 'transparent' }, data: offset }, ...series],
    },
  };
}

export function costChart(data: ReportData): ChartSpec | undefined {
  const rows = data.stages.filter((s) => (s.gpu_hours ?? 0) > 0);
  if (rows.length === 0) return undefined;
  const priced = rows.some((s) => s.cost !== undefined);
  return {
    id: 'cost',
    title: priced ? 'GPU-hours and cost per stage' : 'GPU-hours per stage (no prices: see the table)',
    height: 320,
    option: {
      ...base,
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: priced ? ['GPU-hours', 'cost'] : ['GPU-hours'] },
      grid: { left: 70, right: 70, top: 40, bottom: 90 },
      xAxis: { type: 'category', data: rows.map((s) => s.stage), axisLabel: { rotate: 30 } },
      yAxis: [{ type: 'value', name: 'GPU-hours' }, ...(priced ? [{ type: 'value', name: 'cost' }] : [])],
      series: [
        { name: 'GPU-hours', type: 'bar', itemStyle: { color: '#6366f1' }, data: rows.map((s) => round(s.gpu_hours!, 6)) },
        ...(priced ? [{ name: 'cost', type: 'bar', yAxisIndex: 1, itemStyle: { color: '#f59e0b' }, data: rows.map((s) => (s.cost === undefined ? null : round(s.cost, 6))) }] : []),
      ],
    },
  };
}

export function lossChart(data: ReportData): ChartSpec | undefined {
  if (data.loss.length === 0) return undefined;
  return {
    id: 'loss',
    title: 'Training loss per logged step',
    height: 340,
    option: {
      ...base,
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: data.loss.map((c) => c.stage) },
      grid: { left: 60, right: 30, top: 40, bottom: 40 },
      xAxis: { type: 'value', name: 'step', minInterval: 1 },
      yAxis: { type: 'value', name: 'loss', scale: true },
      series: data.loss.map((c) => ({ name: c.stage, type: 'line', showSymbol: true, data: c.points.map((p) => [p.step, p.loss]) })),
    },
  };
}

function scoreChart(id: string, title: string, variants: [string, ScorePair][]): ChartSpec {
  return {
    id,
    title,
    height: 300,
    option: {
      ...base,
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: variants.map(([name]) => name) },
      grid: { left: 50, right: 30, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: ['BLEU', 'chrF++'] },
      yAxis: { type: 'value' },
      series: variants.map(([name, s]) => ({ name, type: 'bar', label: { show: true, position: 'top' }, data: [round(s.bleu, 2), round(s.chrf, 2)] })),
    },
  };
}

export function translationCharts(data: ReportData): ChartSpec[] {
  const { teacher, translator } = data.translation;
  return [
    ...(teacher ? [scoreChart('teacher-quality', 'Teacher: BF16 vs FP8 on the dev set', [['BF16', teacher.bf16], ['FP8', teacher.fp8]])] : []),
    ...(translator ? [scoreChart('translator-quality', 'Translator: base vs tuned on held-out pairs', [['base', translator.base], ['tuned', translator.tuned]])] : []),
  ];
}

export function benchmarkCharts(data: ReportData): ChartSpec[] {
  return data.benchmarks.map((b) => {
    const variants = (['base', 'sft', 'merged'] as const).filter((v) => b.series[v]);
    const names = [...new Set(variants.flatMap((v) => Object.keys(b.series[v]!)))].sort();
    return {
      id: `benchmarks-${b.student}`,
      title: `Benchmarks of ${b.student}${b.missing.length > 0 ? ` (not benchmarked: ${b.missing.join(', ')})` : ''}`,
      height: 300,
      option: {
        ...base,
        tooltip: { trigger: 'axis' },
        legend: { top: 0, data: variants },
        grid: { left: 50, right: 30, top: 40, bottom: 60 },
        xAxis: { type: 'category', data: names, axisLabel: { rotate: names.length > 4 ? 30 : 0 } },
        yAxis: { type: 'value' },
        series: variants.map((v) => ({ name: v, type: 'bar', label: { show: true, position: 'top' }, data: names.map((n) => b.series[v]![n] ?? null) })),
      },
    };
  });
}

export function funnelCharts(data: ReportData): ChartSpec[] {
  const { filter, corpus } = data.funnel;
  const charts: ChartSpec[] = [];
  if (filter && filter.read !== undefined && filter.kept !== undefined) {
    const steps = [
      { name: 'OPUS pairs read', value: filter.read },
      { name: 'kept by the filters', value: filter.kept },
      ...(corpus?.pairs_opus !== undefined ? [{ name: 'OPUS pairs in the corpus', value: corpus.pairs_opus }] : []),
    ];
    charts.push({
      id: 'funnel',
      title: 'Corpus filter funnel',
      height: 260,
      option: { ...base, series: [{ type: 'funnel', sort: 'none', left: '10%', width: '80%', minSize: '20%', label: { show: true, position: 'inside' }, data: steps.map((s) => ({ name: `${s.name}: ${s.value}`, value: s.value })) }] },
    });
    // Then the pairs decontamination took out of the corpus, per evaluation set they repeat.
    const repeats = Object.entries(corpus ?? {})
      .filter(([k]) => k.startsWith('decontaminated_'))
      .map(([k, v]): [string, number] => [`repeats ${k.slice('decontaminated_'.length)}`, v]);
    const drops = [...Object.entries(filter).filter(([k]) => k !== 'read' && k !== 'kept'), ...repeats];
    charts.push({
      id: 'filter-drops',
      title: 'Pairs dropped per filter (dedup included) and per evaluation set repeated',
      height: 60 + 26 * drops.length,
      option: {
        ...base,
        grid: { left: 140, right: 40, top: 20, bottom: 30 },
        xAxis: { type: 'value', minInterval: 1 },
        yAxis: { type: 'category', data: drops.map(([k]) => k), inverse: true },
        series: [{ type: 'bar', itemStyle: { color: '#d97706' }, label: { show: true, position: 'right' }, data: drops.map(([, v]) => v) }],
      },
    });
  }
  return charts;
}

// The report's lineage layout on the lineage of a tiny campaign (test/support/tiny-lineage.json: the
// graph `hala report` gathered for the browser test's completed campaign, 53 nodes and 289 edges):
// edges left to right between layers, no overlapping boxes, no edge through a box it does not join,
// few crossings. On this graph the hand-placed columns it replaces drew 9434 crossings and 174 edges
// through unrelated boxes. The browser test checks the same on what Chromium draws.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LineageGraph } from '../../cli/lineage';
import { layoutLineage } from '../../cli/report/lineage-layout';
import { measureGeometry } from '../support/lineage-geometry';

const tiny = JSON.parse(readFileSync(path.join(__dirname, '../support/tiny-lineage.json'), 'utf8')) as LineageGraph;

describe('lineage layout', () => {
  it('lays the tiny campaign out as a DAG: left to right by layer, no overlap, no edge through a box, few crossings', () => {
    const layout = layoutLineage(tiny);
    expect(new Set(layout.nodes.flatMap((n) => n.members))).toEqual(new Set(tiny.nodes.map((n) => n.id)));
    const g = measureGeometry(layout.nodes, layout.edges);
    console.log(`lineage layout: ${tiny.nodes.length} nodes and ${tiny.edges.length} edges drawn as ${layout.nodes.length} boxes and ${layout.edges.length} edges, ${g.crossings} crossings, ${layout.width} x ${layout.height} px`);
    expect(g.backwards).toEqual([]);
    expect(g.overlaps).toEqual([]);
    expect(g.through).toEqual([]);
    expect(g.crossings).toBeLessThanOrEqual(0.5 * layout.edges.length);
  });

  it('draws nodes that share inputs and readers as one box, a source once per column and student of its readers, each student in a band', () => {
    const layout = layoutLineage(tiny);
    const benchmarks = layout.nodes.filter((n) => n.label.includes('arabic_mmlu/test.parquet'));
    expect(benchmarks[0]!.label).toHaveLength(6); // the six benchmark sets: one box
    expect(benchmarks.length).toBeGreaterThan(1); // one copy per column (and student) of its readers
    const edgesFrom = (id: string) => layout.edges.filter((e) => e.from === id);
    for (const b of benchmarks) expect(new Set(edgesFrom(b.id).map((e) => layout.nodes.find((n) => n.id === e.to)!.layer))).toEqual(new Set([b.layer + 1]));
    const evaluate = layout.nodes.find((n) => n.label[0] === 'evaluate-hala-350m')!;
    expect(evaluate.members).toHaveLength(3); // base, SFT and merged reports
    // Each student's chain in a band of its own: the bands' vertical extents do not interleave.
    const extent = (student: string) => {
      const ys = layout.nodes.filter((n) => n.kind === 'artifact' && n.label[0]!.endsWith(`-${student}`)).flatMap((n) => [n.y - n.height / 2, n.y + n.height / 2]);
      return [Math.min(...ys), Math.max(...ys)] as const;
    };
    const bands = ['hala-350m', 'hala-700m', 'hala-1-2b'].map(extent).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < bands.length; i++) expect(bands[i]![0]).toBeGreaterThan(bands[i - 1]![1]);
  });

  it('fits every label in its box at the font it is drawn with', () => {
    for (const n of layoutLineage(tiny).nodes) expect(n.width).toBeGreaterThanOrEqual(Math.max(...n.label.map((l) => l.length)) * 6.6);
  });
});

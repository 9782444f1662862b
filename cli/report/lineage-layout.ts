// Positions for the lineage graph, laid out as a layered DAG by dagre (@dagrejs/dagre, MIT): raw
// sources at the left, each artifact in a layer after everything it was made from, the order within
// each layer chosen to keep edges from crossing, and long edges routed around the boxes between
// their ends. Hand-placed columns drew a hairball (issue 26): an edge from a benchmark set to twelve
// stages crossed hundreds of others and ran through unrelated boxes.
import dagre from '@dagrejs/dagre';
import type { LineageGraph, LineageNode } from '../lineage';

/** Labels are drawn in a monospace font of this size, so their width is known here without a browser. */
export const LABEL_FONT_PX = 11;
/** Width of one character of that font (0.6 em for the common monospace faces), and the box's inner margin. */
const CHAR_PX = LABEL_FONT_PX * 0.6;
const PAD_PX = 8;
const LINE_PX = 14;

export interface PlacedNode {
  /** The first of `members`. */
  id: string;
  /** The lineage nodes the box stands for: several when they share kind, stage, parents and children. */
  members: string[];
  kind: LineageNode['kind'];
  /** Lines of text drawn in the box: each source's last two path segments; an artifact's stage, then each digest. */
  label: string[];
  /** The node's column, 0 at the left; every edge goes to a higher one. */
  layer: number;
  /** Centre and size of the box, in pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** The path from the source's box to the target's, in pixels (dagre's bends included). */
  points: { x: number; y: number }[];
}

export interface LineageLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

const short = (uri: string) => uri.split('/').filter(Boolean).slice(-2).join('/');

function groupLabel(group: LineageNode[]): string[] {
  const n = group[0]!;
  if (n.kind === 'source') return group.map((m) => short(m.uri ?? m.id));
  return [n.kind === 'artifact' ? (n.stage ?? '?') : 'unknown', ...group.map((m) => (m.sha256 ?? m.id).slice(0, 12))];
}

/**
 * Nodes of one kind and stage with the same parents and the same children are one box: the three
 * benchmark sets every evaluation reads, an evaluation's three reports. Drawn apart, each of their
 * edges is drawn three times over and the copies cross each other.
 */
function groups(graph: LineageGraph): LineageNode[][] {
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const e of graph.edges) {
    parents.set(e.to, [...(parents.get(e.to) ?? []), e.from]);
    children.set(e.from, [...(children.get(e.from) ?? []), e.to]);
  }
  const byKey = new Map<string, LineageNode[]>();
  for (const n of graph.nodes) {
    const key = JSON.stringify([n.kind, n.stage ?? '', [...new Set(parents.get(n.id) ?? [])].sort(), [...new Set(children.get(n.id) ?? [])].sort()]);
    byKey.set(key, [...(byKey.get(key) ?? []), n]);
  }
  return [...byKey.values()];
}

interface Box {
  id: string;
  group: LineageNode[];
  width: number;
  height: number;
}

/** dagre's layout of the boxes and the edges between them (by box id), left to right, each band's boxes kept together. */
function runDagre(boxes: Box[], edges: [string, string][], bands: Map<string, string>) {
  const g = new dagre.graphlib.Graph({ multigraph: false, compound: true });
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 70, edgesep: 8, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const b of boxes) g.setNode(b.id, { width: b.width, height: b.height });
  for (const band of new Set(bands.values())) g.setNode(`band:${band}`, {});
  for (const b of boxes) if (bands.has(b.id)) g.setParent(b.id, `band:${bands.get(b.id)}`);
  for (const [from, to] of edges) g.setEdge(from, to);
  dagre.layout(g);
  // dagre puts every node of a rank on one vertical line (rankdir LR): its columns are the layers.
  const columns = [...new Set(boxes.map((b) => g.node(b.id).x!))].sort((a, b) => a - b);
  return { g, columns, columnOf: (id: string) => columns.indexOf(g.node(id).x!) };
}

/**
 * Bands of artifacts drawn together: a student's stages are named `<kind>-<student>` (sft-hala-350m,
 * merge-, choose-, evaluate-hala-350m), so artifacts of three or more boxes sharing what follows the
 * kind form one band, and a student's chain reads along one row instead of interleaving with the
 * others'. A source copy joins the band of its readers when they all stand in one.
 */
function bandsOf(boxes: Box[], edges: [string, string][]): Map<string, string> {
  const named = new Map(boxes.filter((b) => b.group[0]!.kind === 'artifact').map((b) => [b.id, (b.group[0]!.stage ?? '').replace(/^[a-z]+-/, '')]));
  const sizes = new Map<string, number>();
  for (const band of named.values()) sizes.set(band, (sizes.get(band) ?? 0) + 1);
  const bands = new Map([...named].filter(([, band]) => band !== '' && sizes.get(band)! >= 3));
  for (const b of boxes.filter((x) => x.group[0]!.kind === 'source')) {
    const readers = new Set(edges.filter(([f]) => f === b.id).map(([, t]) => bands.get(t)));
    const [only] = readers;
    if (readers.size === 1 && only !== undefined) bands.set(b.id, only);
  }
  return bands;
}

/**
 * A raw source read by stages in several columns or bands (the benchmark sets: by the corpus, the
 * translated instructions, every choice and evaluation) is drawn once per column and band of its
 * readers, just before them: a source has no parents, so the copies lose nothing, and its edges no
 * longer run across the whole graph crossing everything between.
 */
function splitSources(boxes: Box[], edges: [string, string][], columnOf: (id: string) => number, bands: Map<string, string>): { boxes: Box[]; edges: [string, string][] } {
  const place = (reader: string) => `${columnOf(reader)}\0${bands.get(reader) ?? ''}`;
  const copyOf = (from: string, to: string) => {
    const copies = [...new Set(edges.filter(([f]) => f === from).map(([, t]) => place(t)))].sort();
    const k = copies.indexOf(place(to));
    return k === 0 ? from : `${from}#${k}`;
  };
  const split = new Set(boxes.filter((b) => b.group[0]!.kind === 'source').map((b) => b.id));
  const moved = edges.map(([from, to]): [string, string] => [split.has(from) ? copyOf(from, to) : from, to]);
  const ids = new Set(moved.flatMap(([f, t]) => [f, t]));
  const copies = boxes.flatMap((b) => [...ids].filter((id) => id.startsWith(`${b.id}#`)).map((id) => ({ ...b, id })));
  return { boxes: [...boxes, ...copies], edges: moved };
}

export function layoutLineage(graph: LineageGraph): LineageLayout {
  const boxOf = new Map<string, string>();
  const first: Box[] = groups(graph).map((group) => {
    for (const m of group) boxOf.set(m.id, group[0]!.id);
    const lines = groupLabel(group);
    return { id: group[0]!.id, group, width: Math.ceil(Math.max(...lines.map((l) => l.length)) * CHAR_PX + 2 * PAD_PX), height: lines.length * LINE_PX + PAD_PX };
  });
  const links = new Map<string, [string, string]>();
  for (const e of graph.edges) {
    const [from, to] = [boxOf.get(e.from), boxOf.get(e.to)];
    if (from && to) links.set(`${from}\0${to}`, [from, to]);
  }
  // Laid out twice: the first tells in which columns each source's readers stand.
  const firstBands = bandsOf(first, [...links.values()]);
  const { boxes, edges: split } = splitSources(first, [...links.values()], runDagre(first, [...links.values()], firstBands).columnOf, firstBands);
  const { g, columns, columnOf } = runDagre(boxes, split, bandsOf(boxes, split));
  const nodes = boxes.map((b): PlacedNode => {
    const placed = g.node(b.id);
    return { id: b.id, members: b.group.map((m) => m.id), kind: b.group[0]!.kind, label: groupLabel(b.group), layer: columnOf(b.id), x: placed.x!, y: placed.y!, width: b.width, height: b.height };
  });
  const at = new Map(nodes.map((n) => [n.id, n]));
  const half = columns.map((x) => Math.max(...nodes.filter((n) => n.x === x).map((n) => n.width)) / 2);
  const edges = g.edges().map((e): PlacedEdge => ({ from: e.v, to: e.w, points: route(at.get(e.v)!, at.get(e.w)!, g.edge(e).points ?? [], columns, half) }));
  // dagre's size leaves out the bends of some long edges: the drawing is sized to hold them too.
  const points = [...edges.flatMap((e) => e.points), ...nodes.map((n) => ({ x: n.x + n.width / 2, y: n.y + n.height / 2 }))];
  const { width = 0, height = 0 } = g.graph();
  return { nodes, edges, width: Math.ceil(Math.max(width, ...points.map((p) => p.x + 8))), height: Math.ceil(Math.max(height, ...points.map((p) => p.y + 8))) };
}

/**
 * An edge's path that enters a column only level, at a height dagre kept free for it (the node's own
 * row, or the slot of the dummy node a long edge passes through), and slants only in the gaps
 * between columns, where no box stands. dagre's own points are meant for a spline and, drawn
 * straight, clip the boxes stacked beside their ends.
 */
function route(from: PlacedNode, to: PlacedNode, bends: { x: number; y: number }[], columns: number[], half: number[]): { x: number; y: number }[] {
  const across = (x: number, y: number) => {
    const c = columns.findIndex((cx, i) => Math.abs(x - cx) <= half[i]!);
    return c < 0 ? [{ x, y }] : [{ x: columns[c]! - half[c]!, y }, { x: columns[c]! + half[c]!, y }];
  };
  const [fc, tc] = [columns.indexOf(from.x), columns.indexOf(to.x)];
  return [
    { x: from.x + from.width / 2, y: from.y },
    { x: from.x + half[fc]!, y: from.y },
    ...bends.slice(1, -1).flatMap((p) => across(p.x, p.y)),
    { x: to.x - half[tc]!, y: to.y },
    { x: to.x - to.width / 2, y: to.y },
  ].filter((p, i, all) => i === 0 || p.x !== all[i - 1]!.x || p.y !== all[i - 1]!.y);
}

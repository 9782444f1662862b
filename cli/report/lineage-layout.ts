// Positions for the lineage graph: each artifact in the column of its longest path from a raw source,
// each raw source in the column just before its first reader (a benchmark set sits by the evaluation
// that reads it, not at the far left), so the trail reads left to right towards the products.
import type { LineageGraph } from '../lineage';

export interface PlacedNode {
  id: string;
  layer: number;
  row: number;
}

export function layoutByLayer(graph: LineageGraph): PlacedNode[] {
  const parents = new Map<string, string[]>();
  for (const e of graph.edges) parents.set(e.to, [...(parents.get(e.to) ?? []), e.from]);
  const layers = new Map<string, number>();
  const layerOf = (id: string, seen: Set<string>): number => {
    const known = layers.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle cannot come from lineage records; never loop on one
    seen.add(id);
    const layer = Math.max(-1, ...(parents.get(id) ?? []).map((p) => layerOf(p, seen))) + 1;
    layers.set(id, layer);
    return layer;
  };
  for (const n of graph.nodes) layerOf(n.id, new Set());
  const children = new Map<string, string[]>();
  for (const e of graph.edges) children.set(e.from, [...(children.get(e.from) ?? []), e.to]);
  for (const n of graph.nodes) {
    const readers = children.get(n.id) ?? [];
    if (!parents.has(n.id) && readers.length > 0) layers.set(n.id, Math.max(0, Math.min(...readers.map((c) => layers.get(c)!)) - 1));
  }
  const rows = new Map<number, number>();
  return graph.nodes.map((n) => {
    const layer = layers.get(n.id)!;
    const row = rows.get(layer) ?? 0;
    rows.set(layer, row + 1);
    return { id: n.id, layer, row };
  });
}

// Positions for the lineage graph: each node in the column of its longest path from a raw source,
// so the trail reads left (sources) to right (the campaign's products).
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
  const rows = new Map<number, number>();
  return graph.nodes.map((n) => {
    const layer = layerOf(n.id, new Set());
    const row = rows.get(layer) ?? 0;
    rows.set(layer, row + 1);
    return { id: n.id, layer, row };
  });
}

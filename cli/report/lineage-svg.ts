// The lineage graph as inline SVG, drawn at the layout's own pixel size (lineage-layout.ts): text in
// the page's DOM at a fixed size, legible however many stages there are (a wide graph scrolls rather
// than shrinking its labels), each box's full ids in its tooltip, and positions the browser test can
// read back.
import type { LineageGraph, LineageNode } from '../lineage';
import { LABEL_FONT_PX, layoutLineage } from './lineage-layout';

const COLOURS: Record<LineageNode['kind'], { fill: string; stroke: string }> = {
  source: { fill: '#e8f0fe', stroke: '#3b82f6' },
  artifact: { fill: '#e7f5ec', stroke: '#3a9d5d' },
  unknown: { fill: '#fdecea', stroke: '#d64545' },
};
const LEGEND_PX = 22;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fixed = (x: number) => Number(x.toFixed(1));

/** What a box's tooltip says of each lineage node it stands for. */
function describe(n: LineageNode): string {
  if (n.kind === 'source') return `${n.uri ?? n.id}\nsha256 ${n.sha256 ?? '?'}${n.revision ? `\nrevision ${n.revision}` : ''}`;
  if (n.kind === 'artifact') return `${n.stage ?? '?'}: ${n.uri ?? ''}\nsha256 ${n.sha256 ?? n.id}${n.campaign_id ? `\ncampaign ${n.campaign_id}` : ''}`;
  return `no lineage record for ${n.id}`;
}

/** The SVG element, or undefined when the graph has no node. */
export function lineageSvg(graph: LineageGraph): string | undefined {
  if (graph.nodes.length === 0) return undefined;
  const layout = layoutLineage(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const legend = (['source', 'artifact', 'unknown'] as const).map((kind, i) =>
    `<rect x="${8 + i * 90}" y="4" width="12" height="12" fill="${COLOURS[kind].fill}" stroke="${COLOURS[kind].stroke}"/><text x="${24 + i * 90}" y="14">${kind}</text>`,
  );
  const edges = layout.edges.map((e) =>
    `<polyline class="edge" data-from="${esc(e.from)}" data-to="${esc(e.to)}" points="${e.points.map((p) => `${fixed(p.x)},${fixed(p.y)}`).join(' ')}" marker-end="url(#lineage-arrow)"/>`,
  );
  const nodes = layout.nodes.map((n) => {
    const { fill, stroke } = COLOURS[n.kind];
    const [left, top] = [fixed(n.x - n.width / 2), fixed(n.y - n.height / 2)];
    const lines = n.label.map((l, i) => `<tspan x="${fixed(n.x)}" y="${fixed(top + 4 + (i + 0.8) * 14)}">${esc(l)}</tspan>`).join('');
    const title = n.members.map((m) => describe(byId.get(m)!)).join('\n\n');
    return `<g class="node" data-id="${esc(n.id)}" data-layer="${n.layer}" data-kind="${n.kind}"><title>${esc(title)}</title>`
      + `<rect x="${left}" y="${top}" width="${fixed(n.width)}" height="${fixed(n.height)}" rx="4" fill="${fill}" stroke="${stroke}"/><text text-anchor="middle">${lines}</text></g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="lineage" width="${layout.width}" height="${layout.height + LEGEND_PX}" viewBox="0 ${-LEGEND_PX} ${layout.width} ${layout.height + LEGEND_PX}" font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="${LABEL_FONT_PX}">
<defs><marker id="lineage-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#6b7280"/></marker></defs>
<g transform="translate(0 ${-LEGEND_PX})" font-family="system-ui, sans-serif">${legend.join('')}</g>
<g fill="none" stroke="#9ca3af" stroke-width="1.2">${edges.join('')}</g>
<g fill="#1f2933">${nodes.join('')}</g>
</svg>`;
}

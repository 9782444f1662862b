// What makes a drawn lineage graph readable, measured on positions (from the layout or from the
// boxes and paths a browser rendered): edges run left to right from a lower layer to a higher one,
// no two node boxes overlap, no edge cuts through a box it does not join, and few edges cross.

export interface Box {
  id: string;
  layer: number;
  /** Centre and size, in one unit (layout units or CSS pixels). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Line {
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

export interface Geometry {
  /** Edges whose target is not in a higher layer, or not to the right, of their source. */
  backwards: string[];
  /** Pairs of node boxes that overlap. */
  overlaps: string[];
  /** Edges that pass through the box of a node they do not join. */
  through: string[];
  /** Pairs of edges (not sharing a node) whose paths cross. */
  crossings: number;
}

type P = { x: number; y: number };

const cross = (o: P, a: P, b: P) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
/** Segments ab and cd cross at a point inside both (touching ends do not count). */
function segmentsCross(a: P, b: P, c: P, d: P): boolean {
  const d1 = cross(c, d, a), d2 = cross(c, d, b), d3 = cross(a, b, c), d4 = cross(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}
const segments = (l: Line) => l.points.slice(1).map((p, i) => [l.points[i]!, p] as const);

/** Whether segment ab enters box (shrunk by a pixel so an edge ending on a border does not count). */
function segmentHitsBox(a: P, b: P, box: Box): boolean {
  const [l, r, t, btm] = [box.x - box.width / 2 + 1, box.x + box.width / 2 - 1, box.y - box.height / 2 + 1, box.y + box.height / 2 - 1];
  const inside = (p: P) => p.x > l && p.x < r && p.y > t && p.y < btm;
  if (inside(a) || inside(b)) return true;
  const corners = [{ x: l, y: t }, { x: r, y: t }, { x: r, y: btm }, { x: l, y: btm }];
  return corners.some((c, i) => segmentsCross(a, b, c, corners[(i + 1) % 4]!));
}

export function measureGeometry(boxes: Box[], lines: Line[]): Geometry {
  const byId = new Map(boxes.map((b) => [b.id, b]));
  const name = (l: Line) => `${l.from} -> ${l.to}`;
  const backwards = lines.filter((l) => {
    const [s, t] = [byId.get(l.from)!, byId.get(l.to)!];
    return !(t.layer > s.layer && t.x > s.x);
  }).map(name);
  const overlaps: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]!, boxes[j]!];
      if (Math.abs(a.x - b.x) < (a.width + b.width) / 2 && Math.abs(a.y - b.y) < (a.height + b.height) / 2) overlaps.push(`${a.id} / ${b.id}`);
    }
  }
  const through = lines.filter((l) => boxes.some((b) => b.id !== l.from && b.id !== l.to && segments(l).some(([p, q]) => segmentHitsBox(p, q, b)))).map(name);
  let crossings = 0;
  for (let i = 0; i < lines.length; i++) {
    for (let j = i + 1; j < lines.length; j++) {
      const [a, b] = [lines[i]!, lines[j]!];
      if ([a.from, a.to].some((n) => n === b.from || n === b.to)) continue; // edges meeting at a node fan out from it
      if (segments(a).some(([p, q]) => segments(b).some(([r, s]) => segmentsCross(p, q, r, s)))) crossings++;
    }
  }
  return { backwards, overlaps, through, crossings };
}

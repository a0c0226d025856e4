import dagre from '@dagrejs/dagre';

/**
 * The pipeline graph's layout, computed by dagre (a layered "Sugiyama" layout: ranks top to
 * bottom, crossings minimised) — never by hand. Pure: boxes and edge routes in pixels, no DOM
 * (unit-tested in `layout.test.ts`).
 */

/** A step's box: its top-left corner and size. */
export interface INodeBox {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An edge's route from its source box to its target box. */
export interface IEdgeRoute {
  source: string;
  target: string;
  data: string | null;
  points: { x: number; y: number }[];
}

/** The whole drawing: its size, the boxes by id, and the edges' routes. */
export interface IGraphLayout {
  width: number;
  height: number;
  nodes: Map<string, INodeBox>;
  edges: IEdgeRoute[];
}

export const NODE_HEIGHT = 52;
const MIN_WIDTH = 170;
const MAX_WIDTH = 300;
const CHAR_WIDTH = 7.5;
const MARGIN = 16;

/** A box wide enough for the step's name (within bounds: long names are cut by CSS). */
export function nodeWidth(name: string): number {
  return Math.round(
    Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, name.length * CHAR_WIDTH + 56))
  );
}

/**
 * Lay the steps out: `nodes` in the pipeline's order, `edges` between their ids (edges naming an
 * unknown node are left out). Several edges between the same two steps (two outputs passed) each
 * get a route.
 */
export function layoutPipeline(
  nodes: readonly { id: string; name: string }[],
  edges: readonly { source: string; target: string; data: string | null }[],
  direction: 'TB' | 'LR' = 'TB'
): IGraphLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({
    rankdir: direction,
    nodesep: 32,
    ranksep: 48,
    edgesep: 16,
    marginx: MARGIN,
    marginy: MARGIN
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    g.setNode(node.id, { width: nodeWidth(node.name), height: NODE_HEIGHT });
  }
  const kept = edges.filter(
    e => g.hasNode(e.source) && g.hasNode(e.target) && e.source !== e.target
  );
  kept.forEach((edge, index) => {
    g.setEdge(edge.source, edge.target, {}, `e${index}`);
  });
  dagre.layout(g);
  const boxes = new Map<string, INodeBox>();
  for (const node of nodes) {
    const label = g.node(node.id);
    boxes.set(node.id, {
      id: node.id,
      x: (label.x ?? 0) - label.width / 2,
      y: (label.y ?? 0) - label.height / 2,
      width: label.width,
      height: label.height
    });
  }
  const routes = kept.map((edge, index) => {
    const label = g.edge({ v: edge.source, w: edge.target, name: `e${index}` });
    return {
      source: edge.source,
      target: edge.target,
      data: edge.data,
      points: (label?.points ?? []).map((p: { x: number; y: number }) => ({
        x: p.x,
        y: p.y
      }))
    };
  });
  const graph = g.graph();
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    nodes: boxes,
    edges: routes
  };
}

/** An SVG path through an edge's points (a straight line when dagre gave only its ends). */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  if (!points.length) {
    return '';
  }
  const [first, ...rest] = points;
  return [
    `M${first.x.toFixed(1)},${first.y.toFixed(1)}`,
    ...rest.map(p => `L${p.x.toFixed(1)},${p.y.toFixed(1)}`)
  ].join(' ');
}

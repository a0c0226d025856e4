import { describe, expect, it } from 'vitest';

import { edgePath, layoutPipeline, NODE_HEIGHT, nodeWidth } from './layout';

// load and features both feed train (a fan-in), which feeds report.
const NODES = [
  { id: 'load', name: 'load' },
  { id: 'features', name: 'features' },
  { id: 'train', name: 'train' },
  { id: 'report', name: 'report' }
];
const EDGES = [
  { source: 'load', target: 'train', data: 'raw' },
  { source: 'features', target: 'train', data: 'features' },
  { source: 'train', target: 'report', data: 'model' }
];

function overlap(
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number }
): boolean {
  return (
    a.x < b.x + b.width &&
    b.x < a.x + a.width &&
    a.y < b.y + b.height &&
    b.y < a.y + a.height
  );
}

describe('layoutPipeline', () => {
  const layout = layoutPipeline(NODES, EDGES);
  const box = (id: string) => layout.nodes.get(id)!;

  it('places every step in its own box', () => {
    expect([...layout.nodes.keys()].sort()).toEqual(
      ['features', 'load', 'report', 'train'].sort()
    );
    const boxes = [...layout.nodes.values()];
    for (const [i, a] of boxes.entries()) {
      expect(a.height).toBe(NODE_HEIGHT);
      for (const b of boxes.slice(i + 1)) {
        expect(overlap(a, b)).toBe(false);
      }
    }
  });

  it('ranks upstream steps above their dependants', () => {
    expect(box('load').y).toBe(box('features').y); // the same rank: side by side
    expect(box('train').y).toBeGreaterThan(box('load').y + NODE_HEIGHT);
    expect(box('report').y).toBeGreaterThan(box('train').y + NODE_HEIGHT);
  });

  it('fits the drawing', () => {
    for (const b of layout.nodes.values()) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(layout.width);
      expect(b.y + b.height).toBeLessThanOrEqual(layout.height);
    }
  });

  it('routes each edge from its source to its target', () => {
    expect(layout.edges.map(e => e.data)).toEqual(['raw', 'features', 'model']);
    for (const edge of layout.edges) {
      expect(edge.points.length).toBeGreaterThanOrEqual(2);
      const first = edge.points[0];
      const last = edge.points[edge.points.length - 1];
      expect(first.y).toBeLessThan(last.y); // downwards
      expect(last.y).toBeLessThanOrEqual(box(edge.target).y + 1);
      expect(first.y).toBeGreaterThanOrEqual(
        box(edge.source).y + NODE_HEIGHT - 1
      );
    }
  });

  it('leaves out edges to unknown steps and keeps parallel edges', () => {
    const result = layoutPipeline(NODES.slice(0, 3), [
      ...EDGES,
      { source: 'load', target: 'train', data: 'extra' },
      { source: 'ghost', target: 'train', data: null }
    ]);
    expect(result.edges.map(e => e.data)).toEqual(['raw', 'features', 'extra']);
    expect(result.nodes.size).toBe(3);
  });

  it('lays out a graph without edges, and an empty one', () => {
    const lone = layoutPipeline([{ id: 'a', name: 'a' }], []);
    expect(lone.nodes.get('a')).toBeDefined();
    expect(lone.edges).toEqual([]);
    const empty = layoutPipeline([], []);
    expect(empty.nodes.size).toBe(0);
  });
});

describe('nodeWidth', () => {
  it('grows with the name within bounds', () => {
    expect(nodeWidth('a')).toBe(170);
    expect(nodeWidth('a'.repeat(20))).toBeGreaterThan(170);
    expect(nodeWidth('a'.repeat(200))).toBe(300);
  });
});

describe('edgePath', () => {
  it('draws a polyline through the points', () => {
    expect(
      edgePath([
        { x: 0, y: 0 },
        { x: 10, y: 20.25 },
        { x: 10, y: 40 }
      ])
    ).toBe('M0.0,0.0 L10.0,20.3 L10.0,40.0');
    expect(edgePath([])).toBe('');
  });
});

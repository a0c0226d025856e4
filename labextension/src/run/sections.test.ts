import { describe, expect, it } from 'vitest';

import type { IRunSectionFactory } from '../tokens';
import { RunPageSections } from './sections';

function factory(id: string, rank: number): IRunSectionFactory {
  return {
    id,
    rank,
    create: () => {
      throw new Error('not made in this test');
    }
  };
}

describe('RunPageSections', () => {
  it('keeps the sections by rank, refuses a second id and removes one on dispose', () => {
    const sections = new RunPageSections();
    const later = sections.add(factory('later', 200));
    sections.add(factory('sooner', 100));
    expect(sections.factories.map(f => f.id)).toEqual(['sooner', 'later']);
    expect(() => sections.add(factory('later', 1))).toThrow(/already added/);
    later.dispose();
    expect(sections.factories.map(f => f.id)).toEqual(['sooner']);
  });
});

import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { DisposableDelegate } from '@lumino/disposable';
import { describe, expect, it } from 'vitest';

import { IPagesHost, PageRegistry, pageId, trackerNamespace } from './registry';
import type { IMlwsPage, IPageKind, ISidebarSection } from './tokens';

/** A host that records what the registry asked of it. */
function fakeHost() {
  const log = {
    installed: [] as string[],
    uninstalled: [] as string[],
    executed: [] as Array<[string, ReadonlyPartialJSONObject]>,
    inserted: [] as Array<[string, string | null]>,
    removed: [] as string[],
    shown: 0
  };
  const host: IPagesHost = {
    installPage: kind => {
      log.installed.push(kind.kind);
      return new DisposableDelegate(() => log.uninstalled.push(kind.kind));
    },
    execute: async (command, args) => {
      log.executed.push([command, args]);
    },
    insertSection: (section, before) =>
      log.inserted.push([section.id, before?.id ?? null]),
    removeSection: section => log.removed.push(section.id),
    showSidebar: () => {
      log.shown++;
    }
  };
  return { host, log };
}

function registry() {
  const { host, log } = fakeHost();
  const context = { trans: {} as never, events: {} as never, rendermime: null };
  return { pages: new PageRegistry(context, host), log };
}

function kind(name: string, command = `mlws:open-${name}`): IPageKind {
  return {
    kind: name,
    command,
    label: name,
    argsSchema: { type: 'object' },
    key: args => String(args.id),
    create: async () => ({}) as IMlwsPage,
    args: () => ({})
  };
}

function section(id: string, rank: number): ISidebarSection {
  return {
    id,
    rank,
    node: {} as HTMLElement,
    isDisposed: false,
    refresh: async () => undefined,
    dispose: () => undefined
  };
}

describe('PageRegistry: page kinds', () => {
  it('registers a kind and opens its pages through its command', async () => {
    const { pages, log } = registry();
    pages.addPage(kind('run'));
    expect(pages.kinds).toEqual(['run']);
    expect(log.installed).toEqual(['run']);
    await pages.open('run', { runId: 'r1' });
    // Pages link to one another through the context they are given.
    await pages.context.open('run', { runId: 'r2' });
    expect(log.executed).toEqual([
      ['mlws:open-run', { runId: 'r1' }],
      ['mlws:open-run', { runId: 'r2' }]
    ]);
  });

  it('refuses to open an unknown kind, naming the known ones', async () => {
    const { pages, log } = registry();
    await expect(pages.open('run', {})).rejects.toThrow(
      'No page of kind "run" is registered (known kinds: none)'
    );
    pages.addPage(kind('run'));
    pages.addPage(kind('compare', 'mlws:compare-runs'));
    await expect(pages.open('dataset', { name: 'x' })).rejects.toThrow(
      'No page of kind "dataset" is registered (known kinds: compare, run)'
    );
    expect(log.executed).toEqual([]);
  });

  it('refuses a kind registered twice', () => {
    const { pages, log } = registry();
    pages.addPage(kind('model'));
    expect(() => pages.addPage(kind('model', 'mlws:other'))).toThrow(
      'The page kind "model" is already registered'
    );
    expect(log.installed).toEqual(['model']);
  });

  it('refuses a second kind on the same command', () => {
    const { pages } = registry();
    pages.addPage(kind('run'));
    expect(() => pages.addPage(kind('job', 'mlws:open-run'))).toThrow(
      'The command "mlws:open-run" already opens pages of kind "run"'
    );
    expect(pages.kinds).toEqual(['run']);
  });

  it('refuses a kind without a name', () => {
    const { pages } = registry();
    expect(() => pages.addPage(kind(''))).toThrow('A page kind needs a name');
  });

  it('removes a kind again when its registration is disposed', async () => {
    const { pages, log } = registry();
    const registration = pages.addPage(kind('run'));
    registration.dispose();
    registration.dispose(); // twice is harmless
    expect(pages.kinds).toEqual([]);
    expect(log.uninstalled).toEqual(['run']);
    await expect(pages.open('run', {})).rejects.toThrow('known kinds: none');
    pages.addPage(kind('run')); // and it may be registered anew
    expect(pages.kinds).toEqual(['run']);
  });

  it('names pages and trackers as before the registry (saved layouts still restore)', () => {
    expect(pageId('run', 'abc')).toBe('mlws-run-abc');
    expect(pageId('compare', 'a,b')).toBe('mlws-compare-a,b');
    expect(trackerNamespace('model')).toBe('mlws-model');
  });
});

describe('PageRegistry: sidebar sections', () => {
  it('orders sections by rank whatever order they come in', () => {
    const { pages, log } = registry();
    pages.addSection(section('activities', 300));
    pages.addSection(section('experiments', 100));
    pages.addSection(section('models', 200));
    pages.addSection(section('runs', 150));
    expect(pages.sections.map(s => s.id)).toEqual([
      'experiments',
      'runs',
      'models',
      'activities'
    ]);
    // Each went in before the first section of a greater rank.
    expect(log.inserted).toEqual([
      ['activities', null],
      ['experiments', 'activities'],
      ['models', 'activities'],
      ['runs', 'models']
    ]);
  });

  it('keeps the arrival order of equal ranks', () => {
    const { pages } = registry();
    pages.addSection(section('a', 100));
    pages.addSection(section('b', 100));
    expect(pages.sections.map(s => s.id)).toEqual(['a', 'b']);
  });

  it('refuses a section id registered twice', () => {
    const { pages, log } = registry();
    pages.addSection(section('models', 200));
    expect(() => pages.addSection(section('models', 250))).toThrow(
      'The sidebar section "models" is already registered'
    );
    expect(log.inserted).toHaveLength(1);
  });

  it('takes a section out when its registration is disposed', () => {
    const { pages, log } = registry();
    const registration = pages.addSection(section('models', 200));
    registration.dispose();
    registration.dispose();
    expect(pages.sections).toEqual([]);
    expect(log.removed).toEqual(['models']);
  });

  it('brings the sidebar forward when asked', () => {
    const { pages, log } = registry();
    pages.showSidebar();
    expect(log.shown).toBe(1);
  });
});

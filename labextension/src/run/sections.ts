import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import type { IRunPageSections, IRunSectionFactory } from '../tokens';

/** The sections other features add to run pages (the `IRunPageSections` token), by rank. */
export class RunPageSections implements IRunPageSections {
  get factories(): readonly IRunSectionFactory[] {
    return this._factories;
  }

  add(factory: IRunSectionFactory): IDisposable {
    if (this._factories.some(known => known.id === factory.id)) {
      throw new Error(`a run page section "${factory.id}" is already added`);
    }
    this._factories = [...this._factories, factory].sort(
      (a, b) => a.rank - b.rank
    );
    return new DisposableDelegate(() => {
      this._factories = this._factories.filter(known => known !== factory);
    });
  }

  private _factories: IRunSectionFactory[] = [];
}

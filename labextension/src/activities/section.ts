import { ListSection, sidebarRow } from '../listsection';
import { Activity, listActivities } from '../request';
import type { IPageContext } from '../tokens';

/** The sidebar's Activities: long operations (environment builds, …) with their status. */
export class ActivitiesSection extends ListSection {
  constructor(context: IPageContext) {
    super({
      id: 'activities',
      rank: 300,
      title: context.trans.__('Activities'),
      testid: 'mlws-activities',
      trans: context.trans
    });
  }

  refresh(): Promise<void> {
    return this.load(listActivities, a => this._activity(a));
  }

  private _activity(item: Activity): HTMLElement {
    const text = `${item.name}: ${item.status}`;
    return sidebarRow('mlws-activity-row', text, item.progress ?? item.kind);
  }
}

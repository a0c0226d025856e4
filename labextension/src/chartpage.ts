import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { purgeCharts, resizeCharts } from './plot';

/**
 * A page that draws plotly charts: they follow the page's size (resized, or shown again after
 * being hidden) and are released with it (plotly keeps listeners and data on each chart).
 */
export abstract class ChartPage extends Widget {
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    purgeCharts(this.node);
    super.dispose();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    resizeCharts(this.node);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    resizeCharts(this.node);
  }
}

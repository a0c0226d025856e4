import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- one stream shared by the sidebar and pages
import { WorkspaceEvents } from '../events';
import { PageRegistry } from '../registry';
import { IMlwsPages } from '../tokens';
import { workspaceIcon } from './icons';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- pages register during activation
import { ShellPages } from './shell';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { WorkspaceSidebar } from './sidebar';

/**
 * The core of the ML Workspace in JupyterLab: the sidebar, the one events stream, and the
 * `IMlwsPages` registry through which every page kind and sidebar section is added (each by a
 * plugin of its own folder).
 */
export const corePlugin: JupyterFrontEndPlugin<IMlwsPages> = {
  // The id the single plugin had before the pages had plugins of their own (users' settings know it).
  id: 'jupyter-mlws:sidebar',
  description:
    'The ML Workspace sidebar and the registry of its pages and sections (IMlwsPages).',
  autoStart: true,
  provides: IMlwsPages,
  optional: [ITranslator, IRenderMimeRegistry, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    rendermime: IRenderMimeRegistry | null,
    restorer: ILayoutRestorer | null
  ): IMlwsPages => {
    const trans = (translator ?? nullTranslator).load('jupyter_mlws');
    const events = new WorkspaceEvents();
    const sidebar = new WorkspaceSidebar(events, trans);
    sidebar.title.icon = workspaceIcon;
    // Marks for users' and our own measurements of how soon the sidebar has its first rows.
    performance.mark('mlws:sidebar-start');
    app.shell.add(sidebar, 'left', { rank: 600 });
    const registry: PageRegistry = new PageRegistry(
      { trans, events, rendermime },
      new ShellPages(app, sidebar, restorer, () => registry.context)
    );
    // Sections are added by plugins activated after this one; each reads its rows when added.
    void app.started
      .then(() => sidebar.firstRows())
      .then(() => performance.mark('mlws:sidebar-first-rows'));
    sidebar.listen();
    return registry;
  }
};

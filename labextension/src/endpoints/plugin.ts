import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IMlwsPages } from '../tokens';
import { ENDPOINT_KIND, OPEN_ENDPOINT_COMMAND } from './open';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is on screen from the start
import { EndpointsSection } from './section';

/** Web service pages: `mlws:open-endpoint {name}`; they reopen after a reload. */
export const endpointPagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:endpoint-page',
  description:
    'The web service page of the ML Workspace (state, traffic charts, a test request, the log).',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    const trans = pages.context.trans;
    pages.addPage({
      kind: ENDPOINT_KIND,
      command: OPEN_ENDPOINT_COMMAND,
      label: trans.__('Open Endpoint'),
      argsSchema: {
        type: 'object',
        properties: { name: { type: 'string' } },
        required: ['name']
      },
      key: args => {
        if (typeof args.name !== 'string' || !args.name) {
          throw new Error(trans.__('%1 needs a name', OPEN_ENDPOINT_COMMAND));
        }
        return args.name;
      },
      create: async (args, context) => {
        // The page (and plotly, with its first chart) comes when a service is first opened.
        const { EndpointPage } = await import('./page');
        return new EndpointPage(String(args.name), context);
      },
      args: page => ({ name: page.serviceName })
    });
  }
};

/** The sidebar's Endpoints section (deployed web services, live). */
export const endpointsSectionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlws:endpoints-section',
  description: 'The Endpoints section of the ML Workspace sidebar.',
  autoStart: true,
  requires: [IMlwsPages],
  activate: (app: JupyterFrontEnd, pages: IMlwsPages) => {
    pages.addSection(new EndpointsSection(pages.context));
  }
};

import { LabIcon } from '@jupyterlab/ui-components';

/** A flask: the ML Workspace's icon (the sidebar's tab and every page's tab). */
export const workspaceIcon = new LabIcon({
  name: 'jupyter-mlws:workspace',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M9 2h6v2h-1v5.2l5.6 9.4A2 2 0 0 1 17.9 22H6.1a2 2 0 0 1-1.7-3.4L10 9.2V4H9V2zm3 9.3L8.4 17h7.2L12 11.3z"/></svg>'
});

import { describe, expect, it } from 'vitest';

import { labPath, notebookLinks } from './notebook';

describe('labPath', () => {
  it('keeps a server-relative path', () => {
    expect(labPath('work/a.ipynb', '/srv/root')).toBe('work/a.ipynb');
  });

  it('makes an absolute path under the server root relative', () => {
    expect(labPath('/srv/root/work/a.ipynb', '/srv/root/')).toBe(
      'work/a.ipynb'
    );
  });

  it('matches a root that Jupyter Server shows under the home folder as ~', () => {
    // serverapp collapses $HOME to "~" in the page config's serverRoot
    expect(labPath('/home/ada/proj/work/a.ipynb', '~/proj')).toBe(
      'work/a.ipynb'
    );
    expect(labPath('/Users/ada/proj/a.ipynb', '~/proj/')).toBe('a.ipynb');
    expect(labPath('C:\\Users\\ada\\proj\\a.ipynb', '~/proj')).toBe('a.ipynb');
    expect(labPath('/home/ada/other/a.ipynb', '~/proj')).toBeNull();
    expect(labPath('/data/proj/a.ipynb', '~/proj')).toBeNull();
  });

  it('cannot open a notebook outside the server root', () => {
    expect(labPath('/elsewhere/a.ipynb', '/srv/root')).toBeNull();
    expect(labPath('/srv/rootless/a.ipynb', '/srv/root')).toBeNull();
  });
});

describe('notebookLinks', () => {
  it('reads the notebook and the submitting cell from the properties', () => {
    const links = notebookLinks(
      {
        'mlws.notebook.path': 'work/job.ipynb',
        'mlws.submitted_from.path': 'work/analysis.ipynb',
        'mlws.submitted_from.cell_id': 'abc',
        'mlws.submitted_from.execution_count': '4'
      },
      '/srv/root'
    );
    expect(links.notebook).toEqual({
      path: 'work/job.ipynb',
      labPath: 'work/job.ipynb',
      cellId: null,
      executionCount: null
    });
    expect(links.submittedFrom).toEqual({
      path: 'work/analysis.ipynb',
      labPath: 'work/analysis.ipynb',
      cellId: 'abc',
      executionCount: '4'
    });
  });

  it('has no links for a run from elsewhere', () => {
    expect(notebookLinks({ 'azureml.git.dirty': 'False' }, '/srv')).toEqual({
      notebook: null,
      submittedFrom: null
    });
  });
});

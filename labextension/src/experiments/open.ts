/** Shows the runs of an experiment in the sidebar (e.g. after a notebook was submitted to it). */
export const SHOW_RUNS_COMMAND = 'mlws:show-runs';

import { describe, expect, it } from 'vitest';

import { Coalescer } from './coalesce';

/** A task the test finishes by hand, counting how many run and how many overlap. */
function manualTask() {
  const state = {
    started: 0,
    running: 0,
    most: 0,
    finish: [] as Array<() => void>
  };
  const task = () => {
    state.started++;
    state.running++;
    state.most = Math.max(state.most, state.running);
    return new Promise<void>(resolve =>
      state.finish.push(() => {
        state.running--;
        resolve();
      })
    );
  };
  return { state, task };
}

const tick = () => new Promise(resolve => setTimeout(resolve, 0));

describe('Coalescer', () => {
  it('never runs the task alongside itself, and folds calls into one more run', async () => {
    const { state, task } = manualTask();
    let after = 0;
    const coalescer = new Coalescer(task, { after: () => after++ });
    const first = coalescer.run();
    const second = coalescer.run();
    const third = coalescer.run();
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(state.started).toBe(1);
    state.finish.shift()!();
    await tick();
    expect(state.started).toBe(2); // the three calls made one more run, not two
    expect(after).toBe(0);
    state.finish.shift()!();
    await first;
    expect(state.started).toBe(2);
    expect(state.most).toBe(1);
    expect(after).toBe(1);
  });

  it('starts afresh once idle, and stops repeating when told to', async () => {
    const { state, task } = manualTask();
    let stopped = false;
    const coalescer = new Coalescer(task, { stopped: () => stopped });
    const run = coalescer.run();
    void coalescer.run();
    stopped = true;
    state.finish.shift()!();
    await run;
    expect(state.started).toBe(1); // the repeat was dropped: stopped
    stopped = false;
    const again = coalescer.run();
    expect(state.started).toBe(2);
    state.finish.shift()!();
    await again;
  });

  it('settles (and calls after) when the task fails', async () => {
    let after = 0;
    const coalescer = new Coalescer(() => Promise.reject(new Error('boom')), {
      after: () => after++
    });
    await expect(coalescer.run()).rejects.toThrow('boom');
    expect(after).toBe(1);
  });
});

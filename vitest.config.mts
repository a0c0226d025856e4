import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['labextension/src/**/*.test.ts'],
    environment: 'node'
  }
});

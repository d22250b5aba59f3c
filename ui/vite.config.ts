/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const uiRoot = fileURLToPath(new URL('.', import.meta.url));
const isTest = !!process.env.VITEST;

// The Tauri shell loads ui/dist (frontendDist) and, in dev, http://localhost:1420 (devUrl).
export default defineConfig({
  root: uiRoot,
  base: './',
  clearScreen: false,
  // Keep Vite's and Vitest's caches in the repo's one node_modules.
  cacheDir: fileURLToPath(new URL('../node_modules/.vite', import.meta.url)),
  plugins: [svelte({ configFile: false })],
  // Svelte's testing library must get the browser build of Svelte under Vitest.
  resolve: isTest ? { conditions: ['browser'] } : undefined,
  server: {
    port: 1420,
    strictPort: true,
    watch: { ignored: ['**/src-tauri/**', '**/target/**'] },
  },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    // WebView2 (Chromium) on Windows, WKWebView on macOS, WebKitGTK on Linux.
    target: ['chrome105', 'safari15'],
    sourcemap: false,
  },
  test: {
    // Relative to the Vite root (the ui folder): ui/src/**/*.test.ts.
    include: ['src/**/*.test.ts'],
    environment: 'jsdom',
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});

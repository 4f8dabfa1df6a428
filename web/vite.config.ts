import { defineConfig } from 'vite';

// Preact through esbuild's automatic JSX runtime: no Babel, no framework plugin.
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  // `npm run dev -w web` serves the app with hot reload against a running `npm start`.
  server: {
    proxy: {
      '/api': gateway,
      '/sse': gateway,
      '/poll': gateway,
      '/ws': { target: gateway, ws: true },
    },
  },
});

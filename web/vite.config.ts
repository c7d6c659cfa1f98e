import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { '@': new URL('./src', import.meta.url).pathname } },
  // fs.allow: the locale test reads ../api/openapi.yaml to check every error reason has a translation.
  server: { fs: { allow: ['.', '../api'] }, proxy: { '/api': 'http://127.0.0.1:8080', '/readyz': 'http://127.0.0.1:8080', '/healthz': 'http://127.0.0.1:8080' } },
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 1200,
    rollupOptions: { output: { manualChunks: { 'element-plus': ['element-plus'], vue: ['vue', 'vue-router', 'pinia', 'vue-i18n'] } } },
  },
  // Mounting the Element Plus pages in happy-dom takes seconds on a loaded 2-core CI machine; 5 s timed out there.
  test: { environment: 'happy-dom', include: ['src/**/*.test.ts'], testTimeout: 20_000 },
})

import { defineConfig } from "vite";

// Built once into dist/ and served by nginx (web-ui/nginx), same origin as the API:
// no dev server, no proxy, nothing fetched from elsewhere at run time.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The shipped JavaScript's budget is 250 KB gzipped (tests/ui checks it).
    chunkSizeWarningLimit: 600,
  },
});

import { defineConfig } from "vite";

// Built into web/dist, which `streamflow serve` hosts at /. Relative asset paths, so the
// dashboard also works behind a path prefix. No asset is ever fetched from the internet.
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1000 },
});

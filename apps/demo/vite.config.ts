import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const workspace = (pkg: string) => fileURLToPath(new URL(`../../packages/${pkg}/src/index.ts`, import.meta.url));
const server = process.env.SWITCHBOARD_URL ?? "http://localhost:3000";

/**
 * The demo is bundled from the workspace sources of the SDK (no prior `tsc`
 * build needed) and served by the Switchboard server from `dist/`. `npm run dev
 * -w apps/demo` proxies the API and the socket to a server on :3000.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // JSX without @vitejs/plugin-react: Vite's own transform with React's automatic runtime.
  oxc: { jsx: { runtime: "automatic" } },
  resolve: {
    alias: {
      "@switchboard/protocol": workspace("protocol"),
      "@switchboard/client": workspace("client"),
      "@switchboard/react": workspace("react"),
    },
  },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: {
      "/socket.io": { target: server, ws: true },
      "/dev": server,
      "/v1": server,
    },
  },
});

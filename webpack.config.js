// Bundles the browser demo (www/) with a plain webpack 5 config: `import tls
// from 'wasm-tls'` resolves to this package itself through its package.json
// "exports" (the "browser" condition), '#buffer'/'#stream'/'#events' through its
// "imports" (npm's buffer, readable-stream, events), and the .wasm is an asset
// found from `new URL(..., import.meta.url)`. No fallbacks, no ProvidePlugin.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));

export default (env = {}, argv = {}) => ({
  mode: argv.mode ?? 'production',
  context: root,
  target: 'web',
  entry: {
    demo: './www/demo.js',
    'worker-page': './www/worker-page.js',
  },
  output: {
    path: path.join(root, 'www/dist'),
    filename: '[name].js',
    chunkFilename: '[name].[contenthash:8].js',
    assetModuleFilename: '[name].[contenthash:8][ext]',
    publicPath: 'auto',
    clean: true,
  },
  devtool: argv.mode === 'development' ? 'source-map' : false,
  // WASM_TLS_NO_MINIFY=1: readable names in browser profiles.
  optimization: process.env.WASM_TLS_NO_MINIFY ? { minimize: false } : undefined,
  performance: { hints: false }, // the wasm is large by nature; sizes are reported instead
});

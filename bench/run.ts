/**
 * `npm run bench [name...]`: runs the benchmarks and prints each figure with its ratio to the peer measured in the
 * same run. Targets are documented in each bench file; they are never asserted in unit tests.
 */
const benches: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  sbom: () => import('./sbom.js'),
  image: () => import('./image.js'),
  versions: () => import('./versions.js'),
  'watch-rules': () => import('./watch-rules.js'),
  egress: () => import('./egress.js'),
};

const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const load = benches[name];
  if (!load) {
    process.stderr.write(`bench: unknown benchmark "${name}" (have: ${Object.keys(benches).join(', ')})\n`);
    process.exit(2);
  }
  process.stdout.write(`\n== ${name}\n`);
  await (await load()).run();
}

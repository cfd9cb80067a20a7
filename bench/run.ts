/**
 * `npm run bench -- <name>`: runs bench/<name>.ts (compiled). Each benchmark prints its figures
 * and, as its last line, one JSON object.
 */
const BENCHES = [
  'label',
  'dispatch',
  'operators',
  'flights',
  'isolation',
  'store',
  'gateway',
  'migration',
] as const;

const name = process.argv[2];
if (name === undefined || !(BENCHES as readonly string[]).includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${BENCHES.join('|')}>\n`);
  process.exit(2);
}
const mod = (await import(`./${name}.js`)) as { main: () => Promise<void> };
await mod.main();

// Worker entry when palisade runs from its TypeScript sources (tests, tsx): register the
// TypeScript loader in this thread, then load the real entry. Built code uses decode-worker.js.
const { register } = await import('tsx/esm/api');
register();
await import('./decode-worker.ts');

// Preloaded into the servers under test (NODE_OPTIONS=--import): SIGUSR2 runs a full
// garbage collection, so that memory is read after GC has settled.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
process.on('SIGUSR2', () => gc());

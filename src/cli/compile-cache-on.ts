// Imported first by src/index.ts, for its effect: see compile-cache.ts.
import { enableCompileCache } from './compile-cache.js';

enableCompileCache();

// Environment dashboard page, linked from get_environment and diagnose_environment (see lib/dashboard.ts).
import { dashboard } from './lib/dashboard.js';
import { startView } from './lib/view.js';

const main = document.getElementById('app') as HTMLElement;
const bridge = startView('environment', main);
const view = dashboard(main, bridge);
bridge.onToolInput = (args) => view.target(args);
bridge.onToolResult = (result) => view.show(result);

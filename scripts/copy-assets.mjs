// Build step after tsc: node .html files and icons beside the compiled .js, and the
// shipped flows as Import > Examples entries.
import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  existsSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, extname } from 'node:path';
import { writeEditorMigrations } from './editor-migrations.mjs';

const require = createRequire(import.meta.url);

function copyTree(from, to, keep) {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) copyTree(src, dst, keep);
    else if (keep(src)) {
      mkdirSync(to, { recursive: true });
      cpSync(src, dst);
    }
  }
}

/**
 * A shipped tab as an example for a plain Node-RED, where none of gridflow's env is set:
 * Node-RED substitutes a `${VAR}` only when VAR is set (and only a whole value), and core
 * nodes (mqtt-broker) have no fallback, so each whole-value `${VAR}` with a documented
 * default holds that default. `${INFLUX_URL}` stays (unset: points wait in the disk
 * buffer), as do paths under `${GRIDFLOW_DATA_DIR}` (unset: the bundled data).
 */
export function exampleOf(nodes, defaults) {
  return nodes.map((node) => {
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      const whole = typeof value === 'string' ? /^\$\{(\w+)\}$/.exec(value) : null;
      out[key] = whole && defaults[whole[1]] ? defaults[whole[1]] : value;
    }
    if (node.type === 'comment' && node.id.endsWith('.comment'))
      out.info = `${node.info ?? ''}${EXAMPLE_NOTE}`;
    return out;
  });
}

const EXAMPLE_NOTE = `

**Imported as an example** (outside the gridflow app): the settings hold the README's defaults — MQTT broker on 127.0.0.1:1883 (the aedes-broker node of the *broker* example), InfluxDB API v1, database/bucket \`gridflow\`, the public APIs' URLs, the data bundled with the package.
For a real database, open the **gridflow InfluxDB** connection node and set its URL (e.g. \`http://127.0.0.1:8086\`), API version, database (v1) or org + bucket + token (v2); until a URL is set, influx-write keeps the points in its disk buffer. Or set \`INFLUX_URL\` (and \`INFLUX_DB\`, \`INFLUX_TOKEN\`, ...) in Node-RED's environment and put \`\${INFLUX_URL}\` back in the URL field. To read your own files, set \`GRIDFLOW_DATA_DIR\` or put absolute paths in the file nodes.`;

copyTree(
  'nodes',
  'dist/nodes',
  (f) => ['.html', '.svg', '.png'].includes(extname(f)) || f.includes('/locales/'),
);
writeEditorMigrations();
rmSync('examples', { recursive: true, force: true });
mkdirSync('examples', { recursive: true });
if (existsSync('flows')) {
  const { FLOW_ENV_DEFAULTS } = require('../dist/settings.js');
  for (const name of readdirSync('flows').filter((f) => extname(f) === '.json')) {
    const nodes = JSON.parse(readFileSync(join('flows', name), 'utf8'));
    writeFileSync(
      join('examples', name),
      JSON.stringify(exampleOf(nodes, FLOW_ENV_DEFAULTS), null, 2) + '\n',
    );
  }
}

// Build step after tsc: node .html files and icons beside the compiled .js, and the
// shipped flows as Import > Examples entries.
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { join, extname } from 'node:path';

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

copyTree(
  'nodes',
  'dist/nodes',
  (f) => ['.html', '.svg', '.png'].includes(extname(f)) || f.includes('/locales/'),
);
rmSync('examples', { recursive: true, force: true });
mkdirSync('examples', { recursive: true });
if (existsSync('flows')) copyTree('flows', 'examples', (f) => extname(f) === '.json');

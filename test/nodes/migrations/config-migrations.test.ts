/**
 * Every node's saved-config migrations: the fixture chain of each node (oldest shape →
 * today's), the editor script generated from the same compiled steps, the .html files
 * that load it, and the shipped flows and examples (written at the current version).
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import {
  currentVersion,
  migrateConfig,
  type ConfigMigration,
  type SavedConfig,
} from '../../../nodes/shared/config-migrations';
import { SAVED_CONFIGS } from './saved-configs';

const repoRoot = resolve(__dirname, '..', '..', '..', '..');
const distNodes = resolve(__dirname, '..', '..', '..', 'nodes');
/** The compiled migrations.js of a node type, found by its folder name. */
const loadCompiled = createRequire(__filename);

const NODE_TYPES = Object.keys(
  (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: object } })[
    'node-red'
  ].nodes,
);

function migrationsOf(type: string): readonly ConfigMigration[] {
  const exported = loadCompiled(join(distNodes, type, 'migrations.js')) as Record<string, unknown>;
  const steps = Object.values(exported).find(Array.isArray);
  assert.ok(steps, `nodes/${type}/migrations.ts exports a list of steps`);
  return steps as ConfigMigration[];
}

/** A value as plain JSON: objects made in the editor script's context compare like ours. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

interface EditorNode extends SavedConfig {
  id: string;
  type: string;
  _def: { defaults: Record<string, object> };
}
interface EditorMigrations {
  migrateNode(node: EditorNode): EditorNode;
  migrateConfig(type: string, config: SavedConfig): SavedConfig;
  currentVersion(type: string): number;
}

/** Runs resources/config-migrations.js as the editor does, with a stand-in RED. */
function loadEditorScript(originalFlow: SavedConfig[] = []) {
  const added: Array<(node: EditorNode) => void> = [];
  const RED = {
    events: { on: (_event: string, listener: (node: EditorNode) => void) => added.push(listener) },
    nodes: { originalFlow: () => originalFlow },
  };
  const window: { RED: typeof RED; GridflowConfigMigrations?: EditorMigrations } = { RED };
  const source = readFileSync(join(repoRoot, 'resources', 'config-migrations.js'), 'utf8');
  runInNewContext(source, { window, RED });
  // A second load (each node's .html names the script) changes nothing.
  runInNewContext(source, { window, RED });
  assert.ok(window.GridflowConfigMigrations, 'the script defines GridflowConfigMigrations');
  assert.equal(added.length, 1, 'one nodes:add listener however often the script loads');
  return { editor: window.GridflowConfigMigrations, nodeAdded: added[0] };
}

describe('saved-config migrations of every node', () => {
  it('every node type has a migrations.ts with steps 1..n and a fixture chain to today', () => {
    assert.ok(NODE_TYPES.length >= 20);
    for (const type of NODE_TYPES) {
      const steps = migrationsOf(type);
      assert.deepEqual(
        steps.map((s) => s.version),
        steps.map((_, i) => i + 1),
        `${type}: versions 1..n in order`,
      );
      const chain = SAVED_CONFIGS[type];
      assert.ok(chain, `${type}: a fixture chain in saved-configs.ts`);
      assert.equal(chain.length, currentVersion(steps) + 1, `${type}: one fixture per version`);
    }
  });

  for (const type of Object.keys(SAVED_CONFIGS)) {
    describe(type, () => {
      const chain = SAVED_CONFIGS[type];
      const today = chain[chain.length - 1];
      chain.forEach((saved, version) => {
        it(`lifts a config saved at version ${version} to today's shape`, () => {
          const migrated = migrateConfig(saved, migrationsOf(type));
          assert.deepEqual(migrated, today);
          assert.deepEqual(
            migrateConfig(migrated, migrationsOf(type)),
            today,
            'migrating twice changes nothing',
          );
        });
      });
      it('treats a blank or bad version as version 0', () => {
        for (const version of [undefined, '', 'x', -1, 0.5])
          assert.deepEqual(migrateConfig({ ...chain[0], version }, migrationsOf(type)), today);
      });
      it('keeps a config saved by a newer release as it is (no step to run)', () => {
        const newer = { ...today, version: currentVersion(migrationsOf(type)) + 1 };
        assert.deepEqual(migrateConfig(newer, migrationsOf(type)), newer);
      });
    });
  }
});

describe('the editor runs the same migrations (resources/config-migrations.js, generated at build)', () => {
  it('gives the runtime result for every saved config of every node', () => {
    const { editor } = loadEditorScript();
    for (const [type, chain] of Object.entries(SAVED_CONFIGS)) {
      assert.equal(editor.currentVersion(type), currentVersion(migrationsOf(type)), type);
      for (const saved of chain)
        assert.deepEqual(
          plain(editor.migrateConfig(type, saved)),
          migrateConfig(saved, migrationsOf(type)),
          type,
        );
    }
    assert.equal(editor.currentVersion('inject'), 0, 'types that are not gridflow have no versions');
  });

  it('migrates each node as the editor loads it, with the properties the editor dropped read from the flow', () => {
    for (const [type, chain] of Object.entries(SAVED_CONFIGS)) {
      const today = chain[chain.length - 1];
      const saved = { id: `old.${type}`, type, ...chain[0] };
      const { nodeAdded } = loadEditorScript([saved]);
      // The editor keeps only the properties its defaults name (today's), as importNodes does.
      const node: EditorNode = { id: saved.id, type, _def: { defaults: {} } };
      for (const key of Object.keys(today)) {
        node._def.defaults[key] = {};
        if (key in saved) node[key] = saved[key as keyof typeof saved];
      }
      nodeAdded(node);
      const held = Object.fromEntries(Object.keys(today).map((key) => [key, node[key]]));
      assert.deepEqual(plain(held), today, type);
    }
  });

  it("is loaded by every node's .html, whose version default and oneditprepare come from it", () => {
    for (const type of NODE_TYPES) {
      const html = readFileSync(join(repoRoot, 'nodes', type, `${type}.html`), 'utf8');
      assert.match(
        html,
        /^<script src="resources\/@gridflow\/node-red-gridflow\/config-migrations\.js"><\/script>$/m,
        type,
      );
      assert.ok(
        html.includes(`version: { value: GridflowConfigMigrations.currentVersion('${type}') }`),
        type,
      );
      assert.match(
        html,
        /oneditprepare: function \(\) \{\n\s+GridflowConfigMigrations\.migrateNode\(this\);/,
        type,
      );
    }
  });
});

describe('shipped flows and examples are written at the current version', () => {
  const files = ['flows', 'examples'].flatMap((dir) =>
    existsSync(join(repoRoot, dir))
      ? readdirSync(join(repoRoot, dir))
          .filter((f) => f.endsWith('.json'))
          .map((f) => join(dir, f))
      : [],
  );

  it('finds nothing to change in any gridflow node of flows/*.json and examples/*.json', () => {
    assert.ok(files.filter((f) => f.startsWith('examples')).length >= 7, 'the build wrote the examples');
    let checked = 0;
    for (const file of files) {
      const nodes = JSON.parse(readFileSync(join(repoRoot, file), 'utf8')) as SavedConfig[];
      for (const node of nodes) {
        if (!NODE_TYPES.includes(String(node.type))) continue;
        const steps = migrationsOf(String(node.type));
        assert.equal(node.version, currentVersion(steps), `${file} ${String(node.id)}: version`);
        assert.deepEqual(migrateConfig(node, steps), node, `${file} ${String(node.id)}`);
        checked++;
      }
    }
    assert.ok(checked >= 40, `${checked} gridflow nodes checked`);
  });
});

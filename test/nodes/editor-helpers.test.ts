/**
 * The editor helpers (nodes/shared/editor-helpers.ts) and the browser script the build
 * makes of them (resources/gridflow-editor.js): run in a sandbox with only `window`, it
 * offers the same functions and the runtime's constants.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { AGGREGATES } from '../../nodes/core/sliding-window';
import { MODEL_NAMES } from '../../nodes/core/forecast-models';
import * as helpers from '../../nodes/shared/editor-helpers';

const SCRIPT = join(resolve(__dirname, '..', '..', '..'), 'resources', 'gridflow-editor.js');

interface EditorGlobal {
  AGGREGATES: readonly string[];
  MODEL_NAMES: readonly string[];
  nonNegative(v: unknown): boolean;
  positiveInteger(v: unknown): boolean;
  durationLabel(seconds: unknown): string;
}

function loadScript(): EditorGlobal {
  const window: { gridflowEditor?: EditorGlobal } = {};
  runInNewContext(readFileSync(SCRIPT, 'utf8'), { window });
  assert.ok(window.gridflowEditor, 'the script sets window.gridflowEditor');
  return window.gridflowEditor;
}

describe('editor helpers', () => {
  it('validators allow blank and reject what the runtime refuses', () => {
    assert.deepEqual(
      ['', undefined, 0, '2.5', -1, 'x'].map((v) => helpers.nonNegative(v)),
      [true, true, true, true, false, false],
    );
    assert.deepEqual(
      ['', 0, 1, '3', 1.5, -2].map((v) => helpers.positiveInteger(v)),
      [true, false, true, true, false, false],
    );
    assert.deepEqual(
      ['', 0, 0.5, '7'].map((v) => helpers.positive(v)),
      [true, false, true, true],
    );
    assert.deepEqual(
      [0, 3, -1, 1.5].map((v) => helpers.nonNegativeInteger(v)),
      [true, true, false, false],
    );
    assert.deepEqual(
      ['', 0.5, 1, 60].map((v) => helpers.atLeastOne(v)),
      [true, false, true, true],
    );
  });

  it('durationLabel picks the largest whole unit', () => {
    assert.deepEqual(
      [86400, 172800, 7200, 3600, 300, 90, '60', 0].map((s) => helpers.durationLabel(s)),
      ['1 d', '2 d', '2 h', '1 h', '5 min', '90 s', '1 min', '0 s'],
    );
  });

  it("port labels are the node's catalog entries <type>.inputLabels and <type>.outputLabels.<port>", () => {
    const node = { type: 'moving-window', _: (key: string) => `[${key}]` };
    assert.equal(helpers.inputLabel.call(node), '[moving-window.inputLabels]');
    assert.equal(helpers.outputLabel.call(node, 1), '[moving-window.outputLabels.1]');
  });

  it('the built resources/gridflow-editor.js holds the same functions and the runtime constants', () => {
    const editor = loadScript();
    assert.deepEqual([...editor.AGGREGATES], [...AGGREGATES]);
    assert.deepEqual([...editor.MODEL_NAMES], [...MODEL_NAMES]);
    assert.equal(editor.nonNegative(-1), false);
    assert.equal(editor.nonNegative(''), true);
    assert.equal(editor.positiveInteger('4'), true);
    assert.equal(editor.durationLabel(900), '15 min');
    const members: Record<string, unknown> = { ...editor };
    for (const name of Object.keys(helpers)) assert.equal(typeof members[name], 'function', name);
  });
});

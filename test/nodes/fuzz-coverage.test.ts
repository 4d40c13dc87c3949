/** Every node type that takes input has its fuzz spec file (test/nodes/<type>.fuzz.test.ts). */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FILES, ROOT, takesInput } from '../harness/fuzz';

describe('fuzz specs (test/harness/fuzz.ts)', () => {
  it('has a fuzz spec for every node type that takes input', () => {
    const inputTypes = Object.keys(NODE_FILES).filter(takesInput);
    assert.ok(inputTypes.length >= 10, `found only ${inputTypes.length} input node types`);
    const withoutSpec = inputTypes.filter((type) => {
      const file = join(ROOT, 'test', 'nodes', `${type}.fuzz.test.ts`);
      return !existsSync(file) || !readFileSync(file, 'utf8').includes(`type: '${type}'`);
    });
    assert.deepEqual(withoutSpec, [], 'node types without a fuzz spec');
  });
});

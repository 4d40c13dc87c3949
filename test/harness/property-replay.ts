/**
 * Replaying a fast-check failure anywhere in the suite. mocha loads this file first
 * (.mocharc.json `require`), so `FUZZ_SEED=S FUZZ_PATH=P npx mocha --config .mocharc.json
 * dist/test/core/<file>.test.js --grep '<test name>'` re-runs the reported counterexample
 * of any property. A property's own `numRuns` wins over FUZZ_RUNS, except in the fuzz
 * specs, which pass replayParameters() explicitly.
 */
import fc from 'fast-check';

/**
 * Replaying a failure: the report says `seed S, path P`; run the spec file again with
 * `FUZZ_SEED=S FUZZ_PATH=P` (and mocha's `--grep` for the one spec) to run that exact
 * counterexample. `FUZZ_SEED` alone repeats the whole run; `FUZZ_RUNS=N` overrides every
 * spec's run count (e.g. to soak a spec with more random streams).
 */
export function replayParameters(
  environment: NodeJS.ProcessEnv = process.env,
): Pick<fc.Parameters<unknown>, 'seed' | 'path' | 'numRuns'> {
  const out: Pick<fc.Parameters<unknown>, 'seed' | 'path' | 'numRuns'> = {};
  const seed = environment.FUZZ_SEED?.trim();
  if (seed) {
    if (!/^-?\d+$/.test(seed)) throw new Error(`FUZZ_SEED "${seed}" is not an integer`);
    out.seed = Number(seed);
  }
  const path = environment.FUZZ_PATH?.trim();
  if (path) {
    if (out.seed === undefined) throw new Error('FUZZ_PATH needs the FUZZ_SEED it was reported with');
    if (!/^\d+(:\d+)*$/.test(path)) throw new Error(`FUZZ_PATH "${path}" is not like 4 or 4:0:1`);
    out.path = path;
  }
  const runs = environment.FUZZ_RUNS?.trim();
  if (runs) {
    if (!/^\d+$/.test(runs) || Number(runs) < 1) throw new Error(`FUZZ_RUNS "${runs}" is not a count`);
    out.numRuns = Number(runs);
  }
  return out;
}

const replay = replayParameters();
if (replay.seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), ...replay });

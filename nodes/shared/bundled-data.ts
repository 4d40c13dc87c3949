import { join } from 'node:path';

/** The data bundled with the package (GRIDFLOW_DATA_DIR's default): <package>/data beside dist/. */
export const BUNDLED_DATA_DIR = join(__dirname, '..', '..', '..', 'data');

/** An env value with the documented default of GRIDFLOW_DATA_DIR when it is unset. */
export function withDataDirDefault(name: string, value: string | undefined): string | undefined {
  return name === 'GRIDFLOW_DATA_DIR' && !value ? BUNDLED_DATA_DIR : value;
}

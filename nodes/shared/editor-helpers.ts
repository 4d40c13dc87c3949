/**
 * Helpers for the nodes' editor forms (.html), written once. They run in the browser:
 * scripts/copy-assets.mjs writes them, with the runtime constants the forms list
 * (aggregates, forecast models), into resources/gridflow-editor.js, which every node's
 * .html loads as `window.gridflowEditor`. So each function here must be self-contained:
 * no imports, only other functions of this file and browser/ES2022 globals.
 */

/** An optional setting: blank (or absent) is allowed and means the runtime default. */
export function isBlank(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/** Blank, or a number ≥ 0. */
export function nonNegative(v: unknown): boolean {
  return isBlank(v) || (Number.isFinite(Number(v)) && Number(v) >= 0);
}

/** Blank, or a number > 0. */
export function positive(v: unknown): boolean {
  return isBlank(v) || (Number.isFinite(Number(v)) && Number(v) > 0);
}

/** Blank, or a whole number ≥ 0. */
export function nonNegativeInteger(v: unknown): boolean {
  return isBlank(v) || (Number.isInteger(Number(v)) && Number(v) >= 0);
}

/** Blank, or a whole number ≥ 1. */
export function positiveInteger(v: unknown): boolean {
  return isBlank(v) || (Number.isInteger(Number(v)) && Number(v) >= 1);
}

/** Blank, or a number ≥ 1 (seconds settings where below one second makes no sense). */
export function atLeastOne(v: unknown): boolean {
  return isBlank(v) || (Number.isFinite(Number(v)) && Number(v) >= 1);
}

/** A node label's duration: 86400 → "1 d", 7200 → "2 h", 300 → "5 min", 90 → "90 s". */
export function durationLabel(seconds: unknown): string {
  const s = Number(seconds);
  if (!Number.isFinite(s) || s <= 0) return `${String(seconds)} s`;
  if (s % 86400 === 0) return `${s / 86400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** What Node-RED gives a port-label function as `this`: the node, with its catalog's `_`. */
interface EditorNode {
  type: string;
  _(key: string): string;
}

/** A node's `inputLabels`: `<type>.inputLabels` from its locales/<lang>/<type>.json. */
export function inputLabel(this: EditorNode): string {
  return this._(`${this.type}.inputLabels`);
}

/** A node's `outputLabels`: `<type>.outputLabels.<port>` from its locales/<lang>/<type>.json. */
export function outputLabel(this: EditorNode, port: number): string {
  return this._(`${this.type}.outputLabels.${port}`);
}

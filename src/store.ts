/** `sluice/store`: the faceted state store (DESIGN.md §1 "Faceted state"). */
export type { ScanEntry } from './store/backend.js';
export { FacetedStore, type LabelledWrite } from './store/faceted-store.js';
export type { JsonValue } from './store/json-value.js';
export type { PostgresOptions } from './store/postgres-backend.js';
export type { SqliteOptions } from './store/sqlite-backend.js';
export { StoreError } from './store/store-error.js';
export { StoreView, type BatchOp, type Page, type ScanOptions } from './store/store-view.js';

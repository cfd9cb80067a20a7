/**
 * `sluice/operators`: labelled reactive pipelines (issue #3). Sources, operators each running
 * at a fixed label, sinks that check what reaches them, the static flow check and the runtime
 * monitor.
 */
export { Pipeline, formatCheck, formatViolations } from './pipeline/pipeline.js';
export type { PipelineOptions, Run, RunReport } from './pipeline/pipeline.js';
export { checkGraph, showLabel, type CheckReport, type Violation } from './pipeline/check.js';
export { KeyFamily } from './pipeline/key-family.js';
export { LabelBound } from './pipeline/label-bound.js';
export { Stream, type OperatorFunction, type OperatorOptions } from './pipeline/stream.js';
export type { SourceOptions } from './pipeline/source.js';
export type { SinkDef, SinkInfo, SinkOptions } from './pipeline/sink.js';
export { from } from './pipeline/sources/from.js';
export { fromAsync } from './pipeline/sources/from-async.js';
export { fromObservable, type ObservableLike } from './pipeline/sources/from-observable.js';
export { map } from './pipeline/operators/map.js';
export { filter } from './pipeline/operators/filter.js';
export { tap } from './pipeline/operators/tap.js';
export { scan } from './pipeline/operators/scan.js';
export { reduce } from './pipeline/operators/reduce.js';
export { keyBy } from './pipeline/operators/key-by.js';
export { merge } from './pipeline/operators/merge.js';
export { takeUntil } from './pipeline/operators/take-until.js';
export { declassify } from './pipeline/operators/declassify.js';
export { endorse } from './pipeline/operators/endorse.js';
export type { ReleaseOptions } from './pipeline/operators/release.js';
export {
  allOf,
  minRecords,
  onlyFields,
  type ReleasePolicy,
} from './pipeline/operators/release-policy.js';
export { toCallback, type CallbackSinkOptions } from './pipeline/sinks/to-callback.js';
export { toConsole, type ConsoleSinkOptions } from './pipeline/sinks/to-console.js';
// I/O: file and engine sources, file and engine sinks, AsyncIterable output (`toObservable`
// is in `sluice/rxjs`).
export type { SourceStats } from './pipeline/runtime.js';
export { fromCsv, type CsvSourceOptions } from './pipeline/sources/from-csv.js';
export { fromNdjson, type NdjsonSourceOptions } from './pipeline/sources/from-ndjson.js';
export {
  fromTopic,
  type TopicSourceOptions,
  type TopicValue,
} from './pipeline/sources/from-topic.js';
export { toFile, type FilePath, type FileSinkOptions } from './pipeline/sinks/to-file.js';
export { toTopic, type TopicSinkOptions } from './pipeline/sinks/to-topic.js';
export {
  toAsyncIterable,
  type AsyncIterableOptions,
} from './pipeline/interop/to-async-iterable.js';
export type { OutputItem, OutputOptions } from './pipeline/interop/output.js';
// Remaining operators (issue #3): inner streams, windows, combining, joins, notifiers, timers.
export {
  mergeMap,
  flatMap,
  type Inner,
  type MergeMapOptions,
} from './pipeline/operators/merge-map.js';
export { windowCount } from './pipeline/operators/window-count.js';
export {
  windowTime,
  type TimeWindow,
  type WindowTimeOptions,
} from './pipeline/operators/window-time.js';
export { zip, type StreamsOf } from './pipeline/operators/zip.js';
export { combineLatest } from './pipeline/operators/combine-latest.js';
export { join, type JoinOptions } from './pipeline/operators/join.js';
export { skipUntil } from './pipeline/operators/skip-until.js';
export { sample } from './pipeline/operators/sample.js';
export { buffer } from './pipeline/operators/buffer.js';
export { debounce } from './pipeline/operators/debounce.js';

/**
 * An independent reference of the DELAYEDFLIGHTS semantics (SecureStreams): a plain,
 * single-threaded loop that splits every line with `split(',')` (deliberately not the code
 * path of csv-rows.ts). Per carrier: the number of delayed flights (ArrDelay > 0) and their
 * mean ArrDelay. Rows whose ArrDelay is NA or unparsable are skipped and counted; rows
 * without 29 fields are counted as malformed; blank lines are ignored. Only carriers with at
 * least one delayed flight appear (the pipeline filters delayed flights before grouping).
 */
import { createReadStream } from 'node:fs';
import { ASA_COLUMN_COUNT, ASA_COLUMNS, ASA_INDEX } from './asa-schema.js';
import { CsvInputError, fileError } from './csv-input-error.js';

export interface CarrierDelays {
  readonly delayed: number;
  readonly sumArrDelay: number;
  readonly avgArrDelay: number;
}

export interface DelayedFlightsResult {
  readonly rows: number;
  readonly skipped: number;
  readonly malformed: number;
  readonly perCarrier: Map<string, CarrierDelays>;
}

export async function referenceDelayedFlights(path: string): Promise<DelayedFlightsResult> {
  let rows = 0;
  let skipped = 0;
  let malformed = 0;
  let sawHeader = false;
  const acc = new Map<string, { delayed: number; sum: number }>();

  const onLine = (raw: string): void => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!sawHeader) {
      sawHeader = true;
      const names = line.replace(/^\xEF\xBB\xBF/, '').split(',');
      for (let i = 0; i < ASA_COLUMN_COUNT; i++) {
        if (names[i]?.trim() !== ASA_COLUMNS[i]) {
          throw new CsvInputError('E_CSV_HEADER', `${path}: not the ASA header`);
        }
      }
      if (names.length !== ASA_COLUMN_COUNT) {
        throw new CsvInputError('E_CSV_HEADER', `${path}: not the ASA header`);
      }
      return;
    }
    if (line === '') return;
    rows++;
    const fields = line.split(',');
    if (fields.length !== ASA_COLUMN_COUNT) {
      malformed++;
      return;
    }
    const text = fields[ASA_INDEX.ArrDelay] as string;
    const delay = text.trim() === '' ? NaN : Number(text);
    if (!Number.isFinite(delay)) {
      skipped++;
      return;
    }
    if (delay > 0) {
      const carrier = fields[ASA_INDEX.UniqueCarrier] as string;
      const a = acc.get(carrier) ?? { delayed: 0, sum: 0 };
      a.delayed++;
      a.sum += delay;
      acc.set(carrier, a);
    }
  };

  let rest = '';
  let sawAny = false;
  try {
    const stream = createReadStream(path, { encoding: 'latin1', highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<string>) {
      sawAny ||= chunk.length > 0;
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    }
  } catch (err) {
    if (err instanceof CsvInputError) throw err;
    throw fileError(path, err);
  }
  if (!sawAny) throw new CsvInputError('E_INPUT_EMPTY', `${path} is empty`);
  if (rest !== '') onLine(rest);

  const perCarrier = new Map<string, CarrierDelays>();
  for (const [carrier, a] of acc) {
    perCarrier.set(carrier, {
      delayed: a.delayed,
      sumArrDelay: a.sum,
      avgArrDelay: a.sum / a.delayed,
    });
  }
  return { rows, skipped, malformed, perCarrier };
}

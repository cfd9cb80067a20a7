/**
 * The ASA Data Expo 2009 on-time schema (the BTS "On-Time Performance" subset published as
 * 1987.csv … 2008.csv): 29 columns, a header row, `NA` where a value is missing.
 */
export const ASA_COLUMNS = [
  'Year',
  'Month',
  'DayofMonth',
  'DayOfWeek',
  'DepTime',
  'CRSDepTime',
  'ArrTime',
  'CRSArrTime',
  'UniqueCarrier',
  'FlightNum',
  'TailNum',
  'ActualElapsedTime',
  'CRSElapsedTime',
  'AirTime',
  'ArrDelay',
  'DepDelay',
  'Origin',
  'Dest',
  'Distance',
  'TaxiIn',
  'TaxiOut',
  'Cancelled',
  'CancellationCode',
  'Diverted',
  'CarrierDelay',
  'WeatherDelay',
  'NASDelay',
  'SecurityDelay',
  'LateAircraftDelay',
] as const;

/** One ASA column name. */
export type AsaColumn = (typeof ASA_COLUMNS)[number];

/** Number of columns in every ASA row (29). */
export const ASA_COLUMN_COUNT: number = ASA_COLUMNS.length;

/** The header row, without line terminator. */
export const ASA_HEADER: string = ASA_COLUMNS.join(',');

/** Column name → zero-based index. */
export const ASA_INDEX: Readonly<Record<AsaColumn, number>> = Object.freeze(
  Object.fromEntries(ASA_COLUMNS.map((name, i) => [name, i])) as Record<AsaColumn, number>,
);

/** The missing-value marker. */
export const ASA_NA = 'NA';

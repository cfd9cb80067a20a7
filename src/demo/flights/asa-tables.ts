/**
 * Reference tables for the ASA generator: the 20 carriers that reported on-time data in
 * 2008 (with their approximate 2008 flight counts as weights) and 35 busy US airports.
 * The delay parameters are plausible, made-up figures chosen so that carriers differ;
 * they are not the real 2008 statistics.
 */
export interface CarrierProfile {
  /** IATA code as in 2008.csv's UniqueCarrier. */
  readonly code: string;
  /** Relative share of flights (≈ 2008 flights, thousands). */
  readonly weight: number;
  /** Probability that a flown flight arrives late (ArrDelay > 0). */
  readonly pLate: number;
  /** Mean minutes of lateness when late (exponential tail). */
  readonly meanLate: number;
  /** Probability of cancellation. */
  readonly pCancel: number;
}

export const CARRIERS: readonly CarrierProfile[] = [
  { code: 'WN', weight: 1202, pLate: 0.43, meanLate: 26, pCancel: 0.012 },
  { code: 'AA', weight: 605, pLate: 0.5, meanLate: 41, pCancel: 0.027 },
  { code: 'OO', weight: 567, pLate: 0.45, meanLate: 35, pCancel: 0.019 },
  { code: 'MQ', weight: 491, pLate: 0.48, meanLate: 36, pCancel: 0.033 },
  { code: 'US', weight: 454, pLate: 0.41, meanLate: 29, pCancel: 0.013 },
  { code: 'DL', weight: 452, pLate: 0.42, meanLate: 33, pCancel: 0.011 },
  { code: 'UA', weight: 450, pLate: 0.47, meanLate: 39, pCancel: 0.022 },
  { code: 'XE', weight: 375, pLate: 0.47, meanLate: 34, pCancel: 0.018 },
  { code: 'NW', weight: 348, pLate: 0.43, meanLate: 36, pCancel: 0.015 },
  { code: 'CO', weight: 298, pLate: 0.48, meanLate: 37, pCancel: 0.008 },
  { code: 'EV', weight: 281, pLate: 0.5, meanLate: 40, pCancel: 0.024 },
  { code: '9E', weight: 262, pLate: 0.4, meanLate: 38, pCancel: 0.029 },
  { code: 'FL', weight: 262, pLate: 0.47, meanLate: 30, pCancel: 0.009 },
  { code: 'YV', weight: 255, pLate: 0.44, meanLate: 40, pCancel: 0.024 },
  { code: 'OH', weight: 198, pLate: 0.44, meanLate: 36, pCancel: 0.024 },
  { code: 'B6', weight: 196, pLate: 0.49, meanLate: 38, pCancel: 0.016 },
  { code: 'AS', weight: 151, pLate: 0.49, meanLate: 27, pCancel: 0.012 },
  { code: 'F9', weight: 96, pLate: 0.5, meanLate: 24, pCancel: 0.005 },
  { code: 'HA', weight: 62, pLate: 0.3, meanLate: 17, pCancel: 0.004 },
  { code: 'AQ', weight: 8, pLate: 0.25, meanLate: 14, pCancel: 0.004 },
];

export interface Airport {
  readonly code: string;
  readonly lat: number;
  readonly lon: number;
  /** Relative share of departures. */
  readonly weight: number;
}

export const AIRPORTS: readonly Airport[] = [
  { code: 'ATL', lat: 33.64, lon: -84.43, weight: 414 },
  { code: 'ORD', lat: 41.98, lon: -87.9, weight: 350 },
  { code: 'DFW', lat: 32.9, lon: -97.04, weight: 281 },
  { code: 'DEN', lat: 39.86, lon: -104.67, weight: 241 },
  { code: 'LAX', lat: 33.94, lon: -118.41, weight: 215 },
  { code: 'IAH', lat: 29.98, lon: -95.34, weight: 185 },
  { code: 'PHX', lat: 33.43, lon: -112.01, weight: 180 },
  { code: 'LAS', lat: 36.08, lon: -115.15, weight: 172 },
  { code: 'DTW', lat: 42.21, lon: -83.35, weight: 161 },
  { code: 'MSP', lat: 44.88, lon: -93.22, weight: 156 },
  { code: 'SFO', lat: 37.62, lon: -122.37, weight: 140 },
  { code: 'CLT', lat: 35.21, lon: -80.94, weight: 140 },
  { code: 'SLC', lat: 40.79, lon: -111.98, weight: 133 },
  { code: 'EWR', lat: 40.69, lon: -74.17, weight: 133 },
  { code: 'MCO', lat: 28.43, lon: -81.31, weight: 127 },
  { code: 'JFK', lat: 40.64, lon: -73.78, weight: 118 },
  { code: 'BOS', lat: 42.36, lon: -71.01, weight: 116 },
  { code: 'SEA', lat: 47.45, lon: -122.31, weight: 114 },
  { code: 'LGA', lat: 40.78, lon: -73.87, weight: 113 },
  { code: 'PHL', lat: 39.87, lon: -75.24, weight: 101 },
  { code: 'BWI', lat: 39.18, lon: -76.67, weight: 99 },
  { code: 'MDW', lat: 41.79, lon: -87.75, weight: 89 },
  { code: 'DCA', lat: 38.85, lon: -77.04, weight: 86 },
  { code: 'IAD', lat: 38.94, lon: -77.46, weight: 76 },
  { code: 'SAN', lat: 32.73, lon: -117.19, weight: 76 },
  { code: 'TPA', lat: 27.98, lon: -82.53, weight: 76 },
  { code: 'STL', lat: 38.75, lon: -90.37, weight: 70 },
  { code: 'FLL', lat: 26.07, lon: -80.15, weight: 65 },
  { code: 'MIA', lat: 25.79, lon: -80.29, weight: 60 },
  { code: 'OAK', lat: 37.72, lon: -122.22, weight: 60 },
  { code: 'PDX', lat: 45.59, lon: -122.6, weight: 60 },
  { code: 'CLE', lat: 41.41, lon: -81.85, weight: 60 },
  { code: 'HOU', lat: 29.65, lon: -95.28, weight: 58 },
  { code: 'MCI', lat: 39.3, lon: -94.71, weight: 50 },
  { code: 'HNL', lat: 21.32, lon: -157.92, weight: 50 },
];

/** Great-circle distance in statute miles, rounded. */
export function distanceMiles(a: Airport, b: Airport): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return Math.round(2 * 3958.8 * Math.asin(Math.sqrt(h)));
}

/**
 * A 1024-slot table for O(1) weighted sampling: `table[Math.floor(u * 1024)]` is an index
 * drawn with probability ≈ weight / total (slot s goes to the item whose cumulative weight
 * range holds the slot's midpoint).
 */
export function weightedTable(weights: readonly number[]): Uint8Array {
  const slots = 1024;
  const total = weights.reduce((s, w) => s + w, 0);
  const table = new Uint8Array(slots);
  let item = 0;
  let upTo = weights[0] ?? 0;
  for (let s = 0; s < slots; s++) {
    const mid = ((s + 0.5) / slots) * total;
    while (mid > upTo && item < weights.length - 1) upTo += weights[++item] ?? 0;
    table[s] = item;
  }
  return table;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASA_COLUMN_COUNT, ASA_COLUMNS, ASA_HEADER, ASA_INDEX } from './asa-schema.js';

describe('ASA schema', () => {
  it('has the 29 columns of 2008.csv in order', () => {
    assert.equal(ASA_COLUMN_COUNT, 29);
    assert.equal(
      ASA_HEADER,
      'Year,Month,DayofMonth,DayOfWeek,DepTime,CRSDepTime,ArrTime,CRSArrTime,UniqueCarrier,' +
        'FlightNum,TailNum,ActualElapsedTime,CRSElapsedTime,AirTime,ArrDelay,DepDelay,Origin,' +
        'Dest,Distance,TaxiIn,TaxiOut,Cancelled,CancellationCode,Diverted,CarrierDelay,' +
        'WeatherDelay,NASDelay,SecurityDelay,LateAircraftDelay',
    );
  });

  it('maps names to indices', () => {
    assert.equal(ASA_INDEX.Year, 0);
    assert.equal(ASA_INDEX.UniqueCarrier, 8);
    assert.equal(ASA_INDEX.ArrDelay, 14);
    assert.equal(ASA_INDEX.LateAircraftDelay, 28);
    ASA_COLUMNS.forEach((name, i) => {
      assert.equal(ASA_INDEX[name], i);
    });
    assert.ok(Object.isFrozen(ASA_INDEX));
  });
});

/** csv-source settings for Swissgrid frequency files as the Grid frequency tab reads them. */
export const SWISSGRID_CSV_SOURCE = {
  delimiter: ';',
  quote: '"',
  decimalComma: false,
  hasHeader: true,
  columns: 'time,hz',
  timeColumn: 'time',
  timeFormat: 'swissgrid',
  timezone: 'Europe/Zurich',
  numberColumns: 'hz',
  output: 'points',
  measurement: 'grid_frequency',
  tagColumns: '',
  fieldColumns: 'hz',
  fileTag: 'series',
};

// Loaded into Azurite with `node --require`: its clock runs AZURITE_CLOCK_FILE milliseconds ahead of the real one, so
// a test can let a visibility timeout run out without waiting for it. The file is re-read every 100 ms; an unreadable
// or empty read keeps the last offset.
'use strict';
const fs = require('fs');
const file = process.env.AZURITE_CLOCK_FILE;
let offset = 0;
const read = () => {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    const value = Number(text);
    if (text !== '' && Number.isFinite(value)) offset = value;
  } catch { /* keep the last offset */ }
};
read();
setInterval(read, 100).unref();

const RealDate = Date;
// Date() without `new` returns a string; with it, a Date at the shifted now when given no arguments.
function ShiftedDate(...args) {
  if (!new.target) return new RealDate(RealDate.now() + offset).toString();
  return args.length === 0 ? new RealDate(RealDate.now() + offset) : new RealDate(...args);
}
ShiftedDate.prototype = RealDate.prototype;
ShiftedDate.now = () => RealDate.now() + offset;
ShiftedDate.parse = RealDate.parse;
ShiftedDate.UTC = RealDate.UTC;
globalThis.Date = ShiftedDate;

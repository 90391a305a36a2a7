// Loaded into Azurite with `node --require`: its clock runs AZURITE_CLOCK_FILE milliseconds ahead of the real one, so
// a test can let a visibility timeout run out without waiting for it. The file is re-read every 100 ms.
'use strict';
const fs = require('fs');
const file = process.env.AZURITE_CLOCK_FILE;
let offset = 0;
const read = () => { try { offset = Number(fs.readFileSync(file, 'utf8')) || 0; } catch { /* keep the last offset */ } };
read();
setInterval(read, 100).unref();

const RealDate = Date;
class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset); else super(...args);
  }
  static now() { return RealDate.now() + offset; }
}
globalThis.Date = ShiftedDate;

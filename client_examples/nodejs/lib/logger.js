'use strict';
// The default logger: one line per event on stderr, so a handler that
// configures nothing still shows reconnects, pauses and shutdown.

function line(level) {
  return (msg) => process.stderr.write(`${new Date().toISOString()} ${level} ${msg}\n`);
}

const stderrLogger = { info: line('info'), warn: line('warn'), error: line('error') };

module.exports = { stderrLogger };

'use strict';
// SIGTERM (orchestrators) and SIGINT (Ctrl-C) start a graceful stop. A
// listener replaces Node's default of exiting at once, so a second signal
// restores that default and re-raises: a stop stuck in a handler can still be
// cut short by signalling again.

const SIGNALS = ['SIGTERM', 'SIGINT'];

// Calls onFirst(signal) on the first of them; returns a function that
// removes the listeners again.
function onShutdownSignal(onFirst) {
  let seen = false;
  const listeners = SIGNALS.map((signal) => [signal, () => {
    if (!seen) {
      seen = true;
      onFirst(signal);
      return;
    }
    remove();
    process.kill(process.pid, signal);
  }]);
  function remove() {
    for (const [signal, fn] of listeners) process.removeListener(signal, fn);
  }
  for (const [signal, fn] of listeners) process.on(signal, fn);
  return remove;
}

module.exports = { onShutdownSignal, SIGNALS };

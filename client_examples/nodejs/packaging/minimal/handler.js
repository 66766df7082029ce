const { run, Reject } = require('@kafka-sidecar/client');

// ACK each JSON message; REJECT (dead-letter) a tombstone or malformed JSON.
run((message) => {
  if (message.value === null) throw new Reject('tombstone');
  try {
    JSON.parse(message.value.toString('utf8'));
  } catch (err) {
    throw new Reject(`malformed JSON: ${err.message}`);
  }
});

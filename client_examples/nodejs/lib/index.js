'use strict';
// @kafka-sidecar/client: a kafka-sidecar handler loop for Node.js.
//
//   const { run, Reject, Retry } = require('@kafka-sidecar/client');
//   run(async (message) => { ... });   // see README.md

const { SidecarClient, run } = require('./client');
const { Reject, Retry } = require('./outcomes');
const { loadService, defaultProtoPath } = require('./proto');

module.exports = { run, SidecarClient, Reject, Retry, loadService, defaultProtoPath };

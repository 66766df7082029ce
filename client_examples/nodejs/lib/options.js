'use strict';
// Client options with their defaults. The address and handler name fall back
// to the environment, so a handler deployed next to the sidecar needs no
// configuration code.

const { stderrLogger } = require('./logger');

const DEFAULT_ADDRESS = '127.0.0.1:50051';
const DEFAULT_HANDLER_NAME = 'nodejs-handler';

function resolveOptions(options = {}, env = process.env) {
  return {
    address: options.address || env.SIDECAR_ADDRESS || DEFAULT_ADDRESS,
    handlerName: options.handlerName || env.HANDLER_NAME || DEFAULT_HANDLER_NAME,
    maxInFlightMessages: options.maxInFlightMessages || 0,
    maxBatchMessages: options.maxBatchMessages || 0,
    topics: options.topics || [],
    credentials: options.credentials,
    protoPath: options.protoPath,
    backoffInitialMs: options.backoffInitialMs ?? 100,
    backoffMaxMs: options.backoffMaxMs ?? 5000,
    handleSignals: options.handleSignals ?? true,
    logger: options.logger || stderrLogger,
  };
}

module.exports = { resolveOptions, DEFAULT_ADDRESS, DEFAULT_HANDLER_NAME };

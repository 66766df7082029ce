package io.kafkasidecar.client;

import java.util.Map;

/** The environment variables the client reads, with their defaults. */
final class Env {
  static final String DEFAULT_TARGET = "127.0.0.1:50051";

  private Env() {}

  /** SIDECAR_ADDRESS: "host:port" or "unix:/path". */
  static String target(Map<String, String> env) {
    return get(env, "SIDECAR_ADDRESS", DEFAULT_TARGET);
  }

  /** An unset and an empty variable both mean the default. */
  static String get(Map<String, String> env, String key, String fallback) {
    String v = env.get(key);
    return v == null || v.isEmpty() ? fallback : v;
  }
}

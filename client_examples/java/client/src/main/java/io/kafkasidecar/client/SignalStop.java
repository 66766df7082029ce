package io.kafkasidecar.client;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM and SIGINT into stop() for every client running with signal
 * handling on, process-wide (signal handlers are per process).
 *
 * <p>A signal handler rather than a shutdown hook: a hook runs only once the
 * JVM is already exiting, with status 143, and the process would end while
 * the settlements are still on their way. With the handler the JVM keeps
 * running, run() returns after settling and the application exits 0. After
 * the first signal the previous handlers are back, so a second one ends the
 * process at once. Where the JVM does not let the application handle signals
 * (-Xrs), a shutdown hook stops the clients and waits for them instead.
 */
final class SignalStop {
  private static final Logger log = Logger.getLogger(SignalStop.class.getName());
  private static final List<String> SIGNALS = List.of("TERM", "INT");

  private static final Set<Registration> running = new LinkedHashSet<>(); // guarded by class
  private static final Map<Signal, SignalHandler> previous = new LinkedHashMap<>(); // guarded by class
  private static boolean hookInstalled; // guarded by class

  private SignalStop() {}

  /** A running client: stop() is called on a signal, awaitEnd() in a shutdown hook. */
  interface Stoppable {
    void stop();

    void awaitEnd() throws InterruptedException;
  }

  /** Handles signals for {@code client} until the returned registration is closed. */
  static synchronized Registration register(Stoppable client) {
    Registration r = new Registration(client);
    if (running.isEmpty()) installHandlers();
    running.add(r);
    return r;
  }

  private static synchronized void unregister(Registration r) {
    running.remove(r);
    if (running.isEmpty()) restoreHandlers();
  }

  private static void onSignal(Signal sig) {
    List<Registration> clients;
    synchronized (SignalStop.class) {
      restoreHandlers();
      clients = List.copyOf(running);
    }
    log.info("SIG" + sig.getName() + ": settling and stopping (again to exit at once)");
    for (Registration r : clients) r.client.stop();
  }

  // Caller holds the class lock.
  private static void installHandlers() {
    for (String name : SIGNALS) {
      Signal sig = new Signal(name);
      try {
        previous.put(sig, Signal.handle(sig, SignalStop::onSignal));
      } catch (IllegalArgumentException e) {
        log.warning("cannot handle SIG" + name + " (" + e.getMessage()
            + "); stopping from a shutdown hook instead");
        installHook();
        return;
      }
    }
  }

  // Caller holds the class lock.
  private static void restoreHandlers() {
    for (Map.Entry<Signal, SignalHandler> e : previous.entrySet()) {
      Signal.handle(e.getKey(), e.getValue());
    }
    previous.clear();
  }

  // Caller holds the class lock.
  private static void installHook() {
    if (hookInstalled) return;
    hookInstalled = true;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      List<Registration> clients;
      synchronized (SignalStop.class) {
        clients = List.copyOf(running);
      }
      for (Registration r : clients) r.client.stop();
      try {
        // Each run() is bounded by its stop timeout; the hook waits for it.
        for (Registration r : clients) r.client.awaitEnd();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "sidecar-shutdown"));
  }

  static final class Registration implements AutoCloseable {
    final Stoppable client;

    Registration(Stoppable client) {
      this.client = client;
    }

    @Override
    public void close() {
      unregister(this);
    }
  }
}

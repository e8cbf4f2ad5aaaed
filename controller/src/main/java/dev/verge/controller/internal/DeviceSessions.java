package dev.verge.controller.internal;

import dev.verge.controller.store.ControllerStore;
import dev.verge.proto.controller.v1.ControllerMessage;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open Connect stream of each device on this replica; a device has at most one (a new one
 * replaces the old). Opening and closing are also noted in the store, so replicas sharing it know
 * which one holds a device's stream.
 */
public final class DeviceSessions {
  private static final Logger LOG = LoggerFactory.getLogger(DeviceSessions.class);
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final ControllerStore store;
  private final String replica;

  public DeviceSessions(ControllerStore store, String replica) {
    this.store = store;
    this.replica = replica;
  }

  /** This replica's id (unique per process). */
  public String replica() {
    return replica;
  }

  /** One device's stream; sends are serialized because a StreamObserver is not thread-safe. */
  public static final class Session {
    private final String device;
    private final StreamObserver<ControllerMessage> stream;
    private boolean closed;
    /** The config hash last sent on this stream: a replica told twice of one version sends it once. */
    private String lastSentHash = "";

    Session(String device, StreamObserver<ControllerMessage> stream) {
      this.device = device;
      this.stream = stream;
    }

    public synchronized boolean send(ControllerMessage message) {
      if (closed) {
        return false;
      }
      try {
        stream.onNext(message);
        return true;
      } catch (RuntimeException e) {
        LOG.warn("send to device {} failed: {}", device, e.toString());
        closed = true;
        return false;
      }
    }

    /** Sends a config unless this stream already carried that hash (or is closed). */
    public synchronized boolean sendConfig(String hash, ControllerMessage message) {
      if (hash.equals(lastSentHash)) {
        return true;
      }
      boolean sent = send(message);
      if (sent) {
        lastSentHash = hash;
      }
      return sent;
    }

    /** The device already runs {@code hash} (resume): do not send it again. */
    public synchronized void noteCurrent(String hash) {
      lastSentHash = hash;
    }

    synchronized void close(Status status) {
      if (!closed) {
        closed = true;
        try {
          stream.onError(status.asRuntimeException());
        } catch (RuntimeException e) {
          // the call is already gone
        }
      }
    }

    /** The device half-closed its side: finish ours, unless the call is already over. */
    synchronized void complete() {
      if (!closed) {
        closed = true;
        try {
          stream.onCompleted();
        } catch (RuntimeException e) {
          // cancelled meanwhile (the device went away): nothing left to finish
        }
      }
    }

    synchronized void markClosed() {
      closed = true;
    }
  }

  /**
   * Registers the device's new stream here (replacing an older one); the caller notes it in the
   * store ({@link ControllerStore#streamResumed}) after this, so a config stored meanwhile finds
   * the session and is pushed.
   */
  public Session open(String device, StreamObserver<ControllerMessage> stream) {
    Session session = new Session(device, stream);
    Session previous = sessions.put(device, session);
    if (previous != null) {
      previous.close(Status.ABORTED.withDescription("superseded by a newer stream from the same device"));
    }
    return session;
  }

  public void closed(String device, Session session) {
    session.markClosed();
    if (sessions.remove(device, session)) {
      store.streamClosed(device, replica);
    }
  }

  /** Whether the device's stream is open here or on another live replica sharing the store. */
  public boolean isConnectedAnywhere(String device) {
    return sessions.containsKey(device) || store.streamHeldElsewhere(device, replica);
  }

  public Session get(String device) {
    return sessions.get(device);
  }

  public boolean isConnected(String device) {
    return sessions.containsKey(device);
  }

  public Set<String> connected() {
    return Set.copyOf(sessions.keySet());
  }

  /** Closes every stream (controller shutdown): devices reconnect to the next instance. */
  public void closeAll() {
    sessions.forEach((device, session) -> {
      session.close(Status.UNAVAILABLE.withDescription("controller shutting down"));
      store.streamClosed(device, replica);
    });
    sessions.clear();
  }
}

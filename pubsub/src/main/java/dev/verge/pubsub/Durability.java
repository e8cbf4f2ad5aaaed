package dev.verge.pubsub;

/** Whether a publication survives a restart of its publisher. */
public enum Durability {
  /** Lives in memory only; closing the publication unpublishes every key. */
  VOLATILE,
  /**
   * Every key is written to the state directory (temp file, fsync, atomic rename) and restored
   * before the publication is announced to subscribers.
   */
  PERSISTENT
}

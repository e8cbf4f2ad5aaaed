package dev.verge.reconciler;

/**
 * Told when a background operation of a graph has finished, so its owner reconciles again. Called
 * on the thread that finished the operation, at most once per graph between two reconcile runs;
 * an agent hands it to its own loop, so no thread waits for it.
 */
@FunctionalInterface
public interface ResumeListener {
  ResumeListener NONE = graphName -> {};

  void readyToResume(String graphName);
}

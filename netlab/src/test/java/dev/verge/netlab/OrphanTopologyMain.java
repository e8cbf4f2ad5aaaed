package dev.verge.netlab;

/** A child JVM that creates a namespace with a daemon inside, reports it, and waits to be killed. */
public final class OrphanTopologyMain {
  public static void main(String[] args) throws Exception {
    NetTopology topo = NetTopology.create("orphan");
    Netns ns = topo.namespace("orphan");
    BackgroundProcess daemon = ns.spawn("daemon", "sleep", "600");
    System.out.println("READY " + ns.name() + " " + daemon.pid());
    System.out.flush();
    Thread.sleep(600_000);
  }
}

package dev.verge.hostos.linux;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.Errno;
import dev.verge.hostos.FlowEvent;
import dev.verge.hostos.FlowFilter;
import dev.verge.hostos.HostException;
import dev.verge.hostos.NetEvents;
import java.util.List;
import java.util.function.Consumer;

/** conntrack over ctnetlink in one namespace. */
public final class LinuxConntrack implements Conntrack {
  private final ConntrackEvents events;

  private LinuxConntrack(ConntrackEvents events) {
    this.events = events;
  }

  public static LinuxConntrack inCurrentNamespace() {
    return new LinuxConntrack(ConntrackEvents.inCurrentNamespace());
  }

  public static LinuxConntrack inNamespace(String netnsName) {
    return new LinuxConntrack(ConntrackEvents.inNamespace(netnsName));
  }

  @Override
  public NetEvents.Subscription subscribe(Consumer<FlowEvent> listener) {
    return events.subscribe(listener);
  }

  @Override
  public List<FlowEvent.Flow> dump() {
    // PLACEHOLDER (helper H2 implements IPCTNL_MSG_CT_GET dump)
    throw new HostException("dump", "conntrack table", Errno.EOPNOTSUPP, "not implemented yet");
  }

  @Override
  public int delete(FlowFilter filter) {
    // PLACEHOLDER (helper H2 implements IPCTNL_MSG_CT_DELETE)
    throw new HostException("delete", "conntrack flows", Errno.EOPNOTSUPP, "not implemented yet");
  }

  @Override
  public void close() {
    events.close();
  }
}

package dev.verge.hostos.sim;

import dev.verge.hostos.Firewall;
import dev.verge.hostos.FirewallContract;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.Stmt;
import java.util.List;
import java.util.Optional;

/** The firewall contract on the sim: pings are packets evaluated at the forward hook. */
class SimFirewallContractTest extends FirewallContract {
  private final SimFirewall firewall = new SimFirewall();

  @Override
  protected Firewall firewall() {
    return firewall;
  }

  /**
   * The router's hooks in order for each ping and its reply: prerouting, forward (to {@code wan0},
   * the route to 10.2.0.0/24), postrouting. The reply comes from the address the request reached
   * and is sent back through the same hooks as part of the established connection.
   */
  @Override
  protected int pingThroughRouter(String destination, int count) {
    int answered = 0;
    for (int i = 0; i < count; i++) {
      Packet request = Packet.ping("10.1.0.2", destination).in("lan0");
      Optional<Packet> delivered = route(request, "wan0");
      if (delivered.isEmpty() || !delivered.get().destination().equals(IpPrefix.literal("10.2.0.2"))) {
        continue;
      }
      Packet reply = delivered.get().reply().withCtMark(delivered.get().ctMark());
      if (route(reply.in("wan0"), "lan0").isPresent()) {
        answered++;
      }
    }
    return answered;
  }

  private Optional<Packet> route(Packet arriving, String outInterface) {
    Optional<Packet> packet = Optional.of(arriving);
    for (Hook hook : List.of(Hook.PREROUTING, Hook.FORWARD, Hook.POSTROUTING)) {
      Packet before = hook == Hook.FORWARD ? packet.get().out(outInterface) : packet.get();
      Evaluation evaluation = firewall.evaluate(hook, before);
      if (!evaluation.accepted()) {
        return Optional.empty();
      }
      Packet after = evaluation.packet();
      packet = Optional.of(evaluation.nat().stream().anyMatch(n -> n.kind() == Stmt.NatKind.DNAT)
          ? after.withCtStatus("dnat") : after);
    }
    return packet;
  }

  @Override
  protected boolean pingFromRouter() {
    Packet request = Packet.ping("10.2.0.1", "10.2.0.2").out("wan0");
    Packet reply = request.reply().in("wan0");
    return firewall.evaluate(Hook.OUTPUT, request).accepted()
        && firewall.evaluate(Hook.POSTROUTING, request).accepted()
        && firewall.evaluate(Hook.PREROUTING, reply).accepted()
        && firewall.evaluate(Hook.INPUT, reply).accepted();
  }
}

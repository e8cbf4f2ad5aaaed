package dev.verge.hostos.linux;

import com.sun.jna.Pointer;
import dev.verge.hostos.Errno;
import dev.verge.hostos.Firewall;
import dev.verge.hostos.HostException;

/**
 * nftables through libnftables in JSON mode. A batch goes to the kernel as one transaction, so it
 * applies entirely or not at all; when nft refuses, its own error text is passed on verbatim. The
 * context (and the netlink socket libnftables opens) lives on the namespace's thread only.
 */
public final class NftablesFirewall implements Firewall {
  private final NamespaceThread namespace;
  private final Pointer context;
  private boolean closed;

  private NftablesFirewall(NamespaceThread namespace) {
    this.namespace = namespace;
    this.context =
        namespace.call(
            () -> {
              Pointer ctx = LibNftables.INSTANCE.nft_ctx_new(LibNftables.NFT_CTX_DEFAULT);
              if (ctx == null) {
                throw new HostException("open", "libnftables context", Errno.ENOMEM,
                    "nft_ctx_new returned nothing");
              }
              LibNftables.INSTANCE.nft_ctx_output_set_flags(ctx, LibNftables.NFT_CTX_OUTPUT_JSON);
              LibNftables.INSTANCE.nft_ctx_buffer_output(ctx);
              LibNftables.INSTANCE.nft_ctx_buffer_error(ctx);
              return ctx;
            });
  }

  public static NftablesFirewall inCurrentNamespace() {
    return new NftablesFirewall(NamespaceThread.current());
  }

  /** The firewall of a named namespace, entered on a dedicated thread only. */
  public static NftablesFirewall inNamespace(String netnsName) {
    return NamespaceThread.open(netnsName, NftablesFirewall::new);
  }

  @Override
  public void apply(String jsonBatch) {
    run("apply", "nftables batch", jsonBatch);
  }

  @Override
  public String listTable(String family, String table) {
    return run("list", "nftables table " + family + " " + table, "list table " + family + " " + table);
  }

  /** Runs nft commands (JSON or nft syntax) and returns nft's output. */
  public synchronized String run(String operation, String object, String commands) {
    if (closed) {
      throw new IllegalStateException("firewall closed");
    }
    return namespace.call(
        () -> {
          int rc = LibNftables.INSTANCE.nft_run_cmd_from_buffer(context, commands);
          String output = LibNftables.INSTANCE.nft_ctx_get_output_buffer(context);
          String error = LibNftables.INSTANCE.nft_ctx_get_error_buffer(context);
          if (rc != 0) {
            String reason = error == null || error.isBlank() ? "nft failed without a message" : error.strip();
            throw new HostException(operation, object, errnoOf(reason), reason);
          }
          return output == null ? "" : output;
        });
  }

  /** nft prints strerror(3) texts for kernel refusals; anything else is a bad batch. */
  private static Errno errnoOf(String nftError) {
    return Errno.inMessage(nftError).orElse(Errno.EINVAL);
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      namespace.call(
          () -> {
            LibNftables.INSTANCE.nft_ctx_free(context);
            return null;
          });
      namespace.close();
    }
  }
}

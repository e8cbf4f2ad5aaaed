package dev.verge.hostos.linux;

import com.sun.jna.Pointer;
import dev.verge.hostos.Errno;
import dev.verge.hostos.Firewall;
import dev.verge.hostos.HostException;
import dev.verge.hostos.nft.NftBatch;
import dev.verge.hostos.nft.NftCommand;
import dev.verge.hostos.nft.NftJson;
import java.util.List;

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

  /**
   * Applies the batch in one transaction. When nft refuses it, the command at fault is found by
   * dry runs of ever shorter prefixes (nft's JSON errors carry no position), so the exception names
   * that command's object with nft's reason.
   */
  @Override
  public synchronized void apply(NftBatch batch) {
    try {
      run("apply", "nftables batch", NftJson.render(batch));
    } catch (HostException refused) {
      throw attribute(batch.commands(), refused);
    }
  }

  private HostException attribute(List<NftCommand> commands, HostException refused) {
    int low = 1;
    int high = commands.size();
    HostException failure = dryRun(commands.subList(0, high));
    if (failure == null) {
      return refused; // the batch passes on its own now: nothing to point at
    }
    while (low < high) {
      int middle = (low + high) >>> 1;
      HostException prefixFailure = dryRun(commands.subList(0, middle));
      if (prefixFailure != null) {
        high = middle;
        failure = prefixFailure;
      } else {
        low = middle + 1;
      }
    }
    NftCommand culprit = commands.get(low - 1);
    return new HostException(culprit.operation(), culprit.object(), failure.errno(), withoutLocation(failure.reason()));
  }

  /** The refusal of the commands checked by nft and the kernel without committing them, or null. */
  private HostException dryRun(List<NftCommand> commands) {
    namespace.call(() -> {
      LibNftables.INSTANCE.nft_ctx_set_dry_run(context, true);
      return null;
    });
    try {
      run("check", "nftables batch", NftJson.render(new NftBatch(commands)));
      return null;
    } catch (HostException e) {
      return e;
    } finally {
      namespace.call(() -> {
        LibNftables.INSTANCE.nft_ctx_set_dry_run(context, false);
        return null;
      });
    }
  }

  /** nft's JSON errors start with a position that means nothing ({@code internal:0:0-0: Error: }). */
  static String withoutLocation(String nftError) {
    String firstLine = nftError.strip().lines().findFirst().orElse(nftError);
    return firstLine.replaceFirst("^internal:\\d+:\\d+-\\d+: ", "").replaceFirst("^Error: ", "");
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

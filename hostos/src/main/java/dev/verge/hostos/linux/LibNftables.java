package dev.verge.hostos.linux;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** libnftables (nftables' own library, the one behind the nft command), through JNA. */
interface LibNftables extends Library {
  LibNftables INSTANCE = Native.load("libnftables.so.1", LibNftables.class);

  int NFT_CTX_DEFAULT = 0;
  int NFT_CTX_OUTPUT_JSON = 1 << 4;

  Pointer nft_ctx_new(int flags);

  void nft_ctx_free(Pointer ctx);

  void nft_ctx_output_set_flags(Pointer ctx, int flags);

  int nft_ctx_buffer_output(Pointer ctx);

  int nft_ctx_buffer_error(Pointer ctx);

  String nft_ctx_get_output_buffer(Pointer ctx);

  String nft_ctx_get_error_buffer(Pointer ctx);

  int nft_run_cmd_from_buffer(Pointer ctx, String buffer);

  /** With dry run on, a batch goes to the kernel for its checks and is then aborted. */
  void nft_ctx_set_dry_run(Pointer ctx, boolean dry);
}

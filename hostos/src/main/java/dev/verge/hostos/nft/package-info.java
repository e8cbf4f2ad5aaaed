/**
 * nftables, typed: tables ({@link dev.verge.hostos.nft.Table}) of chains, rules, sets, maps and
 * named counters, built from immutable records, applied as atomic batches ({@link
 * dev.verge.hostos.nft.NftBatch}, e.g. {@code replaceTable}) through {@link
 * dev.verge.hostos.Firewall}, and read back into the same records.
 *
 * <p>{@link dev.verge.hostos.nft.NftJson} writes libnftables JSON in the canonical form nft lists
 * (so what was applied reads back equal) and parses it back. Where nft rewrites a rule, write it the
 * way nft lists it: no {@code meta l4proto tcp} before {@code tcp dport} (nft drops it), but one
 * before a {@code tcp reset} reject (nft adds it); {@code ct state} tested with {@code in}; prefixes
 * rather than ranges that are prefixes. Sets, anonymous sets and flags compare in any order.
 *
 * <p>Not covered (parsing refuses them by name): rule handles (rules are replaced by flushing their
 * chain), per-rule counter values, quotas, queues, flowtables, set timeouts per element, and
 * statements beyond those in {@link dev.verge.hostos.nft.Stmt}.
 */
package dev.verge.hostos.nft;

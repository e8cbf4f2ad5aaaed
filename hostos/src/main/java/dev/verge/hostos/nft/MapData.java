package dev.verge.hostos.nft;

/** What a map gives for a key: a value, or a verdict in a verdict map. */
public sealed interface MapData permits Value, Stmt.Verdict {}

package dev.verge.hostos.nft;

/** Either side of a statement: a packet field or a value. */
public sealed interface Expr permits Field, Value {}

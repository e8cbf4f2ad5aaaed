/**
 * The Verge bus: typed, keyed pub/sub between agents.
 *
 * <p>A {@link dev.verge.pubsub.Topic} {@code agent/Type} carries protobuf messages under string
 * keys ({@link dev.verge.pubsub.Keys}). It has one {@link dev.verge.pubsub.Publication} and any
 * number of {@link dev.verge.pubsub.Subscription}s, whose {@link
 * dev.verge.pubsub.SubscriptionHandler}s run on the subscribing agent's {@link
 * dev.verge.pubsub.AgentLoop}. Changes coalesce per key under back-pressure, so a subscriber
 * always converges to the latest value and never sees an older value after a newer one.
 *
 * <p>Both drivers ({@link dev.verge.pubsub.PubSub#inJvm}, {@link
 * dev.verge.pubsub.PubSub#unixSockets}) share the publication and subscriber logic; the socket
 * driver adds the transport (wire format in {@code dev/verge/proto/bus/v1/bus.proto}): a
 * subscriber redials with back-off and, on every (re)connection, receives a full dump and deletes
 * the keys the dump lacks. An agent loop is itself a Netty event loop: the socket driver serves a
 * subscription's connection on the subscribing agent's loop, and a publication's connections on
 * the loop given to {@link dev.verge.pubsub.PubSub#publish(dev.verge.pubsub.Topic,
 * dev.verge.pubsub.Durability, dev.verge.pubsub.AgentLoop)}, so a change crosses processes with
 * one thread wake-up (the subscriber's) instead of three. Persistent topics live under {@code <stateDir>/<agent>/<Type>/}, one
 * checksummed file per key, written crash-atomically and restored before the publication is
 * announced.
 */
package dev.verge.pubsub;

package dev.verge.hostos.sim;

/** The operations of the sim kernel that faults can be injected into. */
public enum SimOperation {
  CREATE_LINK, DELETE_LINK, CHANGE_LINK, ADD_ADDRESS, DELETE_ADDRESS, ADD_ROUTE, DELETE_ROUTE,
  ADD_NEIGHBOUR, DELETE_NEIGHBOUR, ADD_RULE, DELETE_RULE
}

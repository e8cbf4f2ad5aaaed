/**
 * domainmgr: the applications' virtual hardware. It reads app instance configs and zedrouter's
 * VIF plans from the bus, creates the VIFs, assigns SR-IOV VFs and passthrough devices, runs each
 * app as a QEMU VM and publishes domain and assignable-adapter status. It imports no other agent.
 */
package dev.verge.domainmgr;

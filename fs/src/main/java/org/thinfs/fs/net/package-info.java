/**
 * Socket plumbing shared by the daemon's front ends (the control socket and the NBD server): accept loops and
 * client threads. Depends on nothing of thinfs; {@code control} and {@code nbd} use it, never the other way.
 */
package org.thinfs.fs.net;

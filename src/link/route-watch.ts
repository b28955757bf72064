/**
 * Route changes, as rtnetlink announces them (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE): for
 * caches of route lookups (Rtnl.getRoute) that must be dropped when any route changes. On a
 * socket of its own, since a notification carries the sequence number of the request that
 * caused it, which could be taken for the answer to one of ours.
 */
import { NetlinkSocket } from '../netlink/socket.js';
import { NETLINK_ROUTE } from '../netlink/constants.js';
import * as C from './constants.js';

export class RouteWatch {
  private readonly socket = new NetlinkSocket(NETLINK_ROUTE);
  private readonly listeners = new Set<() => void>();
  private readonly stop: () => void;

  constructor() {
    this.socket.addMembership(C.RTNLGRP_IPV4_ROUTE);
    this.socket.addMembership(C.RTNLGRP_IPV6_ROUTE);
    this.stop = this.socket.onNotification((m) => {
      if (m.type === C.RTM_NEWROUTE || m.type === C.RTM_DELROUTE) this.changed();
    });
    // An overrun lost notifications: routes may have changed, the state is unknown.
    this.socket.onError(() => this.changed());
  }

  /** `fn` runs whenever a route was added or removed, or notifications were lost. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  close(): void {
    this.stop();
    this.listeners.clear();
    this.socket.close();
  }
}

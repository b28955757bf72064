/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kovpn: packet ids (transmit counter, receive replay window)
 */
#ifndef _NET_OVPN_PKTID_H_
#define _NET_OVPN_PKTID_H_

#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/* receive window: ids older than the newest id minus this are refused */
#define OVPN_PKTID_WINDOW	2048
/* after this long without an accepted packet, no older id is accepted (backtrack expiry) */
#define OVPN_PKTID_EXPIRE	(30 * HZ)

/**
 * struct ovpn_pktid_xmit - transmit packet id of one key
 * @seq_num: last id handed out; ids run from 1 to U32_MAX and never wrap
 */
struct ovpn_pktid_xmit {
	atomic64_t seq_num;
};

/**
 * struct ovpn_pktid_recv - replay window of one key
 * @lock: protects the fields below
 * @highest: newest id accepted so far (0: none yet)
 * @floor: ids at or below it are refused (raised to @highest by the expiry)
 * @last_accept: jiffies of the last accepted id
 * @bitmap: one bit per id in (highest - WINDOW, highest], indexed id % WINDOW
 */
struct ovpn_pktid_recv {
	spinlock_t lock; /* see kernel-doc */
	u32 highest;
	u32 floor;
	unsigned long last_accept;
	DECLARE_BITMAP(bitmap, OVPN_PKTID_WINDOW);
};

void ovpn_pktid_xmit_init(struct ovpn_pktid_xmit *pid);
int ovpn_pktid_xmit_next(struct ovpn_pktid_xmit *pid, u32 *pktid);
void ovpn_pktid_recv_init(struct ovpn_pktid_recv *pr);
bool ovpn_pktid_recv_check(struct ovpn_pktid_recv *pr, u32 pkt_id);
int ovpn_pktid_recv(struct ovpn_pktid_recv *pr, u32 pkt_id);

#endif /* _NET_OVPN_PKTID_H_ */

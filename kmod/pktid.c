// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: packet ids (transmit counter, receive replay window)
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/limits.h>

#include "pktid.h"

/**
 * ovpn_pktid_xmit_init - start a fresh transmit counter (first id is 1)
 * @pid: the counter
 */
void ovpn_pktid_xmit_init(struct ovpn_pktid_xmit *pid)
{
#ifdef OVPN_TEST_PKTID_START
	/* test builds only (tests/kmod): start near the end to reach exhaustion */
	atomic64_set(&pid->seq_num, (s64)OVPN_TEST_PKTID_START - 1);
#else
	atomic64_set(&pid->seq_num, 0);
#endif
}

/**
 * ovpn_pktid_xmit_next - hand out the next transmit packet id
 * @pid: the counter of the key in use
 * @pktid: where to store the id
 *
 * Return: 0, or -ERANGE once every id of the key has been used: the nonce
 * must never repeat, so the key is unusable from then on.
 */
int ovpn_pktid_xmit_next(struct ovpn_pktid_xmit *pid, u32 *pktid)
{
	s64 seq = atomic64_inc_return(&pid->seq_num);

	if (unlikely(seq > U32_MAX)) {
		/* keep the counter pinned above the range: no wrap, ever */
		atomic64_set(&pid->seq_num, (s64)U32_MAX + 1);
		return -ERANGE;
	}
	*pktid = (u32)seq;
	return 0;
}

/**
 * ovpn_pktid_recv_init - empty replay window
 * @pr: the window
 */
void ovpn_pktid_recv_init(struct ovpn_pktid_recv *pr)
{
	spin_lock_init(&pr->lock);
	pr->highest = 0;
	pr->floor = 0;
	pr->last_accept = jiffies;
	bitmap_zero(pr->bitmap, OVPN_PKTID_WINDOW);
}

/**
 * ovpn_pktid_recv_check - whether a packet id can still pass the replay window
 * @pr: the window of the key the packet claims
 * @pkt_id: the packet id, read from the not yet authenticated header
 *
 * Lets the receive path drop a replayed or stale packet before paying for its
 * decryption (a flood of replays then costs a header read each). Lockless and
 * read-only: ovpn_pktid_recv() after decryption stays the authority. An update
 * racing with this check can only make it refuse an id that the update itself
 * pushes out of the window or marks seen.
 *
 * Return: false for id 0, an id older than the window (or the expiry floor)
 * or one already seen.
 */
bool ovpn_pktid_recv_check(struct ovpn_pktid_recv *pr, u32 pkt_id)
{
	u32 highest;

	if (unlikely(!pkt_id))
		return false;
	/* pairs with the release in ovpn_pktid_recv() */
	highest = smp_load_acquire(&pr->highest);
	if (pkt_id > highest)
		return true;
	if (highest - pkt_id >= OVPN_PKTID_WINDOW || pkt_id <= READ_ONCE(pr->floor) ||
	    time_after_eq(jiffies, READ_ONCE(pr->last_accept) + OVPN_PKTID_EXPIRE))
		return false;
	return !test_bit(pkt_id % OVPN_PKTID_WINDOW, pr->bitmap);
}

/**
 * ovpn_pktid_recv - account an authenticated packet id in the replay window
 * @pr: the window of the key that decrypted the packet
 * @pkt_id: the packet id
 *
 * An id newer than all is accepted and slides the window; an older one is
 * accepted once while inside the window, unless no packet was accepted for
 * OVPN_PKTID_EXPIRE: then no id at or below the newest is (a long-silent
 * peer cannot be fed old packets), as in mainline.
 *
 * Return: 0 when the id is fresh; -EINVAL for id 0, -ENOENT for an id older
 * than the window (or the expiry floor), -EEXIST for an id already seen.
 */
int ovpn_pktid_recv(struct ovpn_pktid_recv *pr, u32 pkt_id)
{
	int ret = 0;
	u32 i;

	if (unlikely(!pkt_id))
		return -EINVAL;

	spin_lock_bh(&pr->lock);
	if (time_after_eq(jiffies, pr->last_accept + OVPN_PKTID_EXPIRE))
		WRITE_ONCE(pr->floor, pr->highest);
	if (pkt_id > pr->highest) {
		u32 delta = pkt_id - pr->highest;

		if (delta >= OVPN_PKTID_WINDOW) {
			bitmap_zero(pr->bitmap, OVPN_PKTID_WINDOW);
		} else {
			/* forget the ids that slide out of the window */
			for (i = pr->highest + 1; i != pkt_id; i++)
				__clear_bit(i % OVPN_PKTID_WINDOW, pr->bitmap);
		}
		__set_bit(pkt_id % OVPN_PKTID_WINDOW, pr->bitmap);
		/* pairs with ovpn_pktid_recv_check(): the bits above before the new highest */
		smp_store_release(&pr->highest, pkt_id);
	} else if (pr->highest - pkt_id >= OVPN_PKTID_WINDOW ||
		   pkt_id <= pr->floor) {
		ret = -ENOENT;
	} else if (__test_and_set_bit(pkt_id % OVPN_PKTID_WINDOW, pr->bitmap)) {
		ret = -EEXIST;
	}
	if (!ret)
		WRITE_ONCE(pr->last_accept, jiffies);
	spin_unlock_bh(&pr->lock);

	return ret;
}

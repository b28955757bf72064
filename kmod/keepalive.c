// SPDX-License-Identifier: GPL-2.0-only
/*
 * kovpn: keepalive pings and expiry of silent peers
 *
 * One delayed work per device walks the peers: it pings those to which
 * nothing was sent for keepalive_interval seconds, deletes (reason EXPIRED)
 * those from which nothing authentic arrived for keepalive_timeout seconds,
 * and sleeps until the earliest next deadline.
 */
#include <linux/jiffies.h>
#include <linux/netdevice.h>

#include "io.h"
#include "keepalive.h"
#include "main.h"
#include "peer.h"

/* checks one peer; lowers *next to its next deadline, if any */
static void ovpn_keepalive_peer(struct ovpn_peer *peer, unsigned long now,
				unsigned long *next, bool *armed)
{
	u32 interval = READ_ONCE(peer->keepalive_interval);
	u32 timeout = READ_ONCE(peer->keepalive_timeout);
	unsigned long deadline;

	if (timeout) {
		deadline = READ_ONCE(peer->last_recv) + timeout * HZ;
		if (time_after_eq(now, deadline)) {
			if (ovpn_peer_hold(peer)) {
				netdev_dbg(peer->ovpn->dev,
					   "peer %u expired after %u s of silence\n",
					   peer->id, timeout);
				ovpn_peer_del(peer, OVPN_DEL_PEER_REASON_EXPIRED);
				ovpn_peer_put(peer);
			}
			return;
		}
		if (!*armed || time_before(deadline, *next))
			*next = deadline;
		*armed = true;
	}

	if (interval) {
		deadline = READ_ONCE(peer->last_sent) + interval * HZ;
		if (time_after_eq(now, deadline)) {
			local_bh_disable();
			ovpn_xmit_special(peer, ovpn_keepalive_message,
					  OVPN_KEEPALIVE_SIZE);
			local_bh_enable();
			deadline = now + interval * HZ;
		}
		if (!*armed || time_before(deadline, *next))
			*next = deadline;
		*armed = true;
	}
}

/*
 * caller holds ovpn->lock: run the worker at @deadline (jiffies) unless it is
 * already due earlier; settings and new peers only ever move it earlier, the
 * worker itself computes the next run from all peers
 */
static void ovpn_keepalive_schedule(struct ovpn_priv *ovpn,
				    unsigned long deadline)
{
	unsigned long now = jiffies;

	lockdep_assert_held(&ovpn->lock);
	if (ovpn->dead)
		return;
	if (delayed_work_pending(&ovpn->keepalive_work) &&
	    time_before_eq(ovpn->keepalive_next, deadline))
		return;
	ovpn->keepalive_next = deadline;
	mod_delayed_work(system_wq, &ovpn->keepalive_work,
			 time_after(deadline, now) ? deadline - now : 0);
}

static void ovpn_keepalive_work(struct work_struct *work)
{
	struct ovpn_priv *ovpn = container_of(to_delayed_work(work),
					      struct ovpn_priv, keepalive_work);
	unsigned long now = jiffies, next = 0;
	struct ovpn_peer *peer;
	bool armed = false;
	int bkt;

	rcu_read_lock();
	if (ovpn->mode == OVPN_MODE_P2P) {
		peer = rcu_dereference(ovpn->peer);
		if (peer)
			ovpn_keepalive_peer(peer, now, &next, &armed);
	} else {
		hash_for_each_rcu(ovpn->peers->by_id, bkt, peer, hash_entry_id)
			ovpn_keepalive_peer(peer, now, &next, &armed);
	}
	rcu_read_unlock();

	if (!armed)
		return;
	spin_lock_bh(&ovpn->lock);
	ovpn_keepalive_schedule(ovpn, next);
	spin_unlock_bh(&ovpn->lock);
}

/**
 * ovpn_keepalive_init - set up the keepalive worker of a device
 * @ovpn: the device
 */
void ovpn_keepalive_init(struct ovpn_priv *ovpn)
{
	INIT_DELAYED_WORK(&ovpn->keepalive_work, ovpn_keepalive_work);
}

/**
 * ovpn_keepalive_kick - make the worker see a peer's keepalive deadlines
 * @peer: a peer whose keepalive settings changed or that was just added
 *
 * Only schedules the worker earlier when this peer is due first: adding many
 * peers must not make the worker walk all of them each time.
 */
void ovpn_keepalive_kick(struct ovpn_peer *peer)
{
	u32 interval = READ_ONCE(peer->keepalive_interval);
	u32 timeout = READ_ONCE(peer->keepalive_timeout);
	struct ovpn_priv *ovpn = peer->ovpn;
	unsigned long deadline = 0, d;
	bool armed = false;

	if (timeout) {
		deadline = READ_ONCE(peer->last_recv) + timeout * HZ;
		armed = true;
	}
	if (interval) {
		d = READ_ONCE(peer->last_sent) + interval * HZ;
		if (!armed || time_before(d, deadline))
			deadline = d;
		armed = true;
	}
	if (!armed)
		return;

	spin_lock_bh(&ovpn->lock);
	ovpn_keepalive_schedule(ovpn, deadline);
	spin_unlock_bh(&ovpn->lock);
}

/**
 * ovpn_keepalive_set - configure keepalive of a peer (0 disables)
 * @peer: the peer
 * @interval: seconds of TX silence before a ping
 * @timeout: seconds of RX silence before the peer is deleted
 */
void ovpn_keepalive_set(struct ovpn_peer *peer, u32 interval, u32 timeout)
{
	spin_lock_bh(&peer->lock);
	WRITE_ONCE(peer->keepalive_interval, interval);
	WRITE_ONCE(peer->keepalive_timeout, timeout);
	/* the new timeout counts from now */
	WRITE_ONCE(peer->last_recv, jiffies);
	spin_unlock_bh(&peer->lock);

	ovpn_keepalive_kick(peer);
}

/**
 * ovpn_keepalive_cancel - stop the worker (device is dead, peers gone)
 * @ovpn: the device
 */
void ovpn_keepalive_cancel(struct ovpn_priv *ovpn)
{
	cancel_delayed_work_sync(&ovpn->keepalive_work);
}

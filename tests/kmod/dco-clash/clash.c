// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module: holds the generic netlink family name "ovpn-dco-v2", as the
 * real ovpn-dco module would, so that tests/kmod/dco-openvpn.sh can check that
 * ovpn.ko then still loads, logs the conflict once and serves its ovpn family.
 */
#include <linux/module.h>
#include <net/genetlink.h>

static const struct genl_multicast_group clash_mcgrps[] = {
	{ .name = "peers", },
};

static struct genl_family clash_family __ro_after_init = {
	.name = "ovpn-dco-v2",
	.version = 1,
	.module = THIS_MODULE,
	.mcgrps = clash_mcgrps,
	.n_mcgrps = ARRAY_SIZE(clash_mcgrps),
};

static int __init clash_init(void)
{
	return genl_register_family(&clash_family);
}

static void __exit clash_exit(void)
{
	genl_unregister_family(&clash_family);
}

module_init(clash_init);
module_exit(clash_exit);
MODULE_DESCRIPTION("kovpn test: a stand-in holding the ovpn-dco-v2 family name");
MODULE_LICENSE("GPL");

/**
 * Brings a network device up over rtnetlink, in the caller's namespace. Both data paths
 * already do so when they create a device; new_iface asserts it anyway, so that the same
 * scripts work unchanged on either path (the selftests expect an up link).
 */
import { Rtnl } from '../../link/rtnl.js';
import { CliError, errorText } from '../common/errors.js';

export async function setLinkUp(name: string): Promise<void> {
  const rtnl = new Rtnl();
  try {
    await rtnl.setUp(name);
  } catch (err) {
    throw new CliError(`cannot bring ${name} up: ${errorText(err)}`);
  } finally {
    rtnl.close();
  }
}

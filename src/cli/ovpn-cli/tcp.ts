/** TCP transport (connect/listen) is a later step; both commands fail with this line. */
export const TCP_NOT_IMPLEMENTED =
  'TCP transport is not implemented yet; use new_peer or new_multi_peer (UDP)';

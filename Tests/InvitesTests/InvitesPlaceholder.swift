// Tests of the Invites target.

// Tests of the Backends target.

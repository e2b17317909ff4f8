// Tests of the Consumer target.

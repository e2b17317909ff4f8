// Tests of the DropBox target.

// DropBox: the MessageSink that stores each accepted message and queues its S3-event notification.

// AWS: SigV4 signing, credentials, libcurl transport, S3/SQS/SNS/DynamoDB clients.

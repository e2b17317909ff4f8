import FileIO

extension SNSClient {
    /// GetTopicAttributes, to learn that SNS answers and that the credentials may read the topic
    /// (a missing topic or a refused signature throws).
    public func checkTopic(topicARN: String, timeout: Duration? = nil) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: AWSQueryForm.contentType)
        let parameters: [(name: String, value: String)] = [
            ("Action", "GetTopicAttributes"), ("Version", "2010-03-31"), ("TopicArn", topicARN),
        ]
        _ = try await self.client.send(
            AWSServiceClient.Call(
                operation: "GetTopicAttributes", method: "POST", headers: headers, body: SegmentedBody(AWSQueryForm.encode(parameters)),
                timeout: timeout))
    }
}

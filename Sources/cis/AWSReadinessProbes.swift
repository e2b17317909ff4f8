import AWS
import Backends
import Metrics
import Operations

/// The readiness probes of `--backend aws`: S3, the SQS queue (sampling its depth), the SQS
/// dead-letter queue when one is named, and the SNS route topics when this process publishes.
/// Each AWS call is given the probe timeout; the monitor stops waiting at the same deadline.
enum AWSReadinessProbes {
    static func probes(
        backends: BackendSet, keyPrefix: String, topicARNs: [String], maximumQueueDepth: Int, timeout: Duration
    ) -> [ReadinessProbe] {
        var probes: [ReadinessProbe] = []
        // S3 answers a key that does not exist with 404: reachable, and the credentials work.
        let store = backends.objectStore
        let key = keyPrefix + ".cis-readiness-probe"
        probes.append(
            ReadinessProbe(name: "object_store") {
                do {
                    _ = try await store.get(key: key)
                    return ReadinessProbe.passed("object_store", "S3 answers")
                } catch let error as BackendError where error.kind == .notFound {
                    return ReadinessProbe.passed("object_store", "S3 answers")
                } catch {
                    return ReadinessProbe.failed("object_store", "S3 does not answer: \(error)")
                }
            })
        if let queue = backends.queue as? SQSMessageQueue {
            probes.append(
                ReadinessProbe(name: "queue") {
                    do {
                        let depth = try await queue.sqs.queueDepth(queueURL: queue.queueURL, timeout: timeout)
                        OperationsMetrics.queueDepth.record(depth.total)
                        let counts = "\(depth.total) messages queued in SQS (\(depth.visible) visible, \(depth.inFlight) in flight)"
                        return depth.total <= maximumQueueDepth
                            ? ReadinessProbe.passed("queue", "\(counts), at most \(maximumQueueDepth)")
                            : ReadinessProbe.failed("queue", "\(counts), more than --ready-max-queue-depth \(maximumQueueDepth)")
                    } catch {
                        return ReadinessProbe.failed("queue", "SQS does not answer GetQueueAttributes: \(error)")
                    }
                })
        }
        if let deadLetters = backends.deadLetterQueue {
            probes.append(
                ReadinessProbe(name: "dead_letter_queue") {
                    do {
                        let depth = try await deadLetters.sqs.queueDepth(queueURL: deadLetters.queueURL, timeout: timeout)
                        OperationsMetrics.deadLetters.record(depth.total)
                        // Dead letters are for alerts and the status page; they do not make the process unready.
                        return ReadinessProbe.passed("dead_letter_queue", "\(depth.total) messages in the SQS dead-letter queue")
                    } catch {
                        return ReadinessProbe.failed("dead_letter_queue", "SQS does not answer GetQueueAttributes for --dead-letter-queue-url: \(error)")
                    }
                })
        }
        if !topicARNs.isEmpty, let aws = backends.aws, let sns = try? aws.sns() {
            let topics = topicARNs.sorted()
            probes.append(
                ReadinessProbe(name: "topics") {
                    let failures = await withTaskGroup(of: String?.self) { group in
                        for topic in topics {
                            group.addTask {
                                do {
                                    try await sns.checkTopic(topicARN: topic, timeout: timeout)
                                    return nil
                                } catch {
                                    return "\(topic): \(error)"
                                }
                            }
                        }
                        var failures: [String] = []
                        for await failure in group {
                            if let failure { failures.append(failure) }
                        }
                        return failures
                    }
                    return failures.isEmpty
                        ? ReadinessProbe.passed("topics", "SNS answers for \(topics.count) topics")
                        : ReadinessProbe.failed("topics", "SNS does not answer GetTopicAttributes for " + failures.sorted().joined(separator: "; "))
                })
        }
        return probes
    }
}

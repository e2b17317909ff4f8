import Foundation

/// The work a `Batcher` runs. Its methods are called by one pool job at a time, never
/// concurrently, so a handler may keep non-Sendable state (a database connection, open files).
public protocol BatchHandler: AnyObject, SendableMetatype {
    associatedtype Job: Sendable

    /// Runs every job that queued up while the previous batch ran (possibly none, when the
    /// batcher woke for `nextWakeUp`). Must answer each job it takes.
    func run(_ jobs: [Job])

    /// When the batcher should run again even without new jobs (long-poll deadlines, a due
    /// checkpoint); `nil`: no need. While it returns a date and nothing else is queued, the
    /// drain job waits for it on its pool thread.
    func nextWakeUp() -> Date?

    /// Answers jobs still queued when the batcher is released.
    func refuse(_ jobs: [Job])

    /// Called once, last: release resources.
    func shutDown()
}

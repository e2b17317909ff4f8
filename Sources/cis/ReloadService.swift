import BlockingWork
import Logging
import ServiceLifecycle
import UnixSignals

/// One thing SIGHUP reloads; `reload` returns what it did, for the log line.
struct ReloadAction: Sendable {
    var name: String
    var reload: @Sendable () async throws -> String
}

/// The reload actions the commands' parts register while they are built.
final class ReloadActions {
    private(set) var actions: [ReloadAction] = []

    func add(_ name: String, _ reload: @escaping @Sendable () async throws -> String) {
        self.actions.append(ReloadAction(name: name, reload: reload))
    }
}

/// Runs every reload action on each SIGHUP, and logs one line saying what each did. A
/// failed action (a certificate that does not load, a recipients file with a bad line)
/// changes nothing of its own and is logged as an error; the others still run.
struct ReloadService: Service {
    private let signals: UnixSignalsSequence
    private let actions: [ReloadAction]
    private let logger: Logger

    /// Traps SIGHUP from here on, so that a reload signal never ends the process (its default).
    /// Takes the actions registered so far: make it after every part that registers one.
    init(_ actions: ReloadActions, logger: Logger) async {
        self.signals = await UnixSignalsSequence(trapping: .sighup)
        self.actions = actions.actions
        self.logger = logger
    }

    func run() async throws {
        for await _ in self.signals.cancelOnGracefulShutdown() {
            var metadata: Logger.Metadata = [:]
            for action in self.actions {
                do {
                    metadata["reload.\(action.name)"] = "\(try await action.reload())"
                } catch {
                    metadata["reload.\(action.name)"] = "failed"
                    self.logger.error(
                        "SIGHUP: \(action.name) not reloaded, keeping what is in use",
                        metadata: ["reload.what": "\(action.name)", "error": "\(error)"])
                }
            }
            self.logger.info(self.actions.isEmpty ? "SIGHUP: nothing to reload" : "reloaded on SIGHUP", metadata: metadata)
        }
    }
}

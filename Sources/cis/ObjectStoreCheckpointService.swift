import Backends
import ServiceLifecycle

/// Checkpoints the embedded object store at graceful shutdown, once the services that
/// write to it have stopped, so that a clean stop leaves nothing in its journal to replay.
struct ObjectStoreCheckpointService: Service {
    let store: FileSystemObjectStore

    func run() async throws {
        try? await gracefulShutdown()
        await self.store.checkpoint()
    }
}

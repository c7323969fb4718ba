import Foundation

/// Threads of their own on which the in-process fakes run their Swift concurrency work.
///
/// Tests run in parallel on Swift concurrency's cooperative pool, which has one thread per core:
/// two on the machines CI uses. A test that computes for a while, or waits synchronously, holds
/// one of them; two such tests hold the pool, and a fake gateway whose answer is a task on that
/// pool stays silent until they let go. The client on the other end, with its own deadlines on
/// NIO's event loops, then reports a gateway that "sent nothing". Giving the fakes their own
/// threads makes how fast they answer independent of what the tests beside them do.
///
/// Jobs are taken in arrival order by whichever of the threads is free; a fake's tasks are not
/// actors, so nothing here needs them to run one at a time.
@available(macOS 15.0, iOS 18.0, *)
public final class FakeExecutor: TaskExecutor, @unchecked Sendable {
    /// The executor the fakes of this process share.
    public static let shared = FakeExecutor(threads: 2, name: "IGDTestSupport fakes")

    private let condition = NSCondition()
    /// Jobs not yet taken, guarded by `condition`.
    private var queue: [UnownedJob] = []

    /// Starts `threads` threads that run the jobs enqueued here, forever.
    init(threads: Int, name: String) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [unowned self] in self.runJobs() }
            thread.name = "\(name) \(index)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Takes jobs one at a time and runs them with this executor as their preference, so what
    /// they await resumes here too.
    private func runJobs() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let job = queue.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

extension Task where Failure == Never {
    /// A task that runs `operation` (and the child tasks it starts) on the fakes' own threads
    /// (``FakeExecutor/shared``) where the platform has task executors; a plain task elsewhere.
    @discardableResult
    static func onFakeThreads(_ operation: sending @escaping @isolated(any) () async -> Success) -> Task<Success, Never> {
        if #available(macOS 15.0, iOS 18.0, *) {
            return Task(executorPreference: FakeExecutor.shared, operation: operation)
        }
        return Task(operation: operation)
    }
}

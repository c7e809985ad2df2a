import Foundation

/// Work split over threads of its own, not the Dispatch pool: the host lowers each of them to
/// the kernel's idle priority (`onThreadStart`), so a monitor's run uses the CPU only when the
/// serving path does not want it, and no pool thread is left with a lowered priority afterwards.
public enum Parallel {
    /// Called first on every thread a run starts (the host: SCHED_IDLE).
    nonisolated(unsafe) public static var onThreadStart: (() -> Void)?
    /// Threads per parallel step: the machine's cores.
    public static let width = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body(i)` for every i in 0..<n, on up to `width` threads, and returns when all have.
    public static func forEach(_ n: Int, _ body: (Int) -> Void) {
        guard n > 0 else { return }
        withoutActuallyEscaping(body) { body in
            let threads = min(n, width)
            // The threads reach the body through the job, which lets go of it before this returns
            // (the Thread objects themselves may outlive the call).
            let job = Job(body)
            let done = DispatchGroup()
            for _ in 0..<threads {
                done.enter()
                let t = Thread {
                    onThreadStart?()
                    while true {
                        let i = job.take()
                        if i >= n { break }
                        job.body?(i)
                    }
                    done.leave()
                }
                // Sorting a million values and the scanners' buffers want more than the default.
                t.stackSize = 8 << 20
                t.start()
            }
            done.wait()
            job.body = nil
        }
    }

    /// The body, and the next iteration to hand out.
    final class Job: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        var body: ((Int) -> Void)?

        init(_ body: @escaping (Int) -> Void) { self.body = body }

        func take() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value - 1
        }
    }

    /// Runs `body` on a thread of its own (with `onThreadStart`), then `completion` with its result.
    public static func detached<T>(_ body: @escaping () -> T, completion: @escaping (T) -> Void) {
        let t = Thread {
            onThreadStart?()
            completion(body())
        }
        t.stackSize = 8 << 20
        t.start()
    }
}

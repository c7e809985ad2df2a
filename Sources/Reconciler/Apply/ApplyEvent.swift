import Spec

/// Progress of an apply, for the CLI's view (text or JSON lines). The core never prints.
public enum ApplyEvent: Sendable, Equatable {
    case started(ResourceAddress, Action)
    case finished(ResourceAddress, Action, seconds: Double)
    case failed(ResourceAddress, Action, message: String)
    /// Not attempted because an earlier change failed.
    case skipped(ResourceAddress, Action)
}

/// Why an apply stopped.
public enum ApplyError: Error, CustomStringConvertible {
    case changesFailed([(ResourceAddress, String)])
    case state(StateFileError)

    public var description: String {
        switch self {
        case .changesFailed(let failures):
            var text = failures.count == 1 ? "1 change failed:" : "\(failures.count) changes failed:"
            for (address, message) in failures { text += "\n  \(address): \(message)" }
            text += "\n  hint: the state records exactly what was done; fix the cause and apply again to converge"
            return text
        case .state(let e):
            return e.description
        }
    }
}

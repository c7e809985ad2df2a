/// A `wildcard` operand: `*` matches any run of characters (none included); `\*` is a literal
/// star and `\\` a literal backslash. Two stars in a row are rejected, as EventBridge does, and so
/// is a pattern whose matching could be in too many places at once (EventBridge's "too complex").
public struct Wildcard: Sendable, Hashable {
    /// The literal runs between stars.
    public let segments: [String]
    public let leadingStar: Bool
    public let trailingStar: Bool
    public let text: String
    /// The segments as UTF-8, compiled once.
    let bytes: [[UInt8]]

    /// How many positions of a pattern a match may be trying at once before the pattern is "too
    /// complex": a pattern like `*:*:*:*:*:x/*` keeps one live position per star for input made
    /// of the characters after its stars.
    public static let maxLivePositions = 4

    init(_ text: String, path: [String]) throws(EventPatternError) {
        self.text = text
        var segments: [String] = []
        var current = ""
        var lead = false, trail = false
        var previousStar = false
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count, chars[i + 1] == "*" || chars[i + 1] == "\\" {
                current.append(chars[i + 1])
                i += 2
                previousStar = false
                continue
            }
            if c == "*" {
                if previousStar { throw EventPatternError(reason: "Consecutive wildcard characters at pos \(i)", path: path) }
                previousStar = true
                if i == 0 { lead = true } else { segments.append(current) }
                current = ""
                if i == chars.count - 1 { trail = true }
            } else {
                previousStar = false
                current.append(c)
            }
            i += 1
        }
        if !trail { segments.append(current) }
        self.segments = segments
        bytes = segments.map { Array($0.utf8) }
        leadingStar = lead
        trailingStar = trail
        if Wildcard.livePositions(segments: segments, leadingStar: lead) > Wildcard.maxLivePositions {
            throw EventPatternError(reason: "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character",
                                    path: path)
        }
    }

    /// The stars whose following literal starts with the same character as another star's: each
    /// such star can keep a match attempt alive while the others advance.
    static func livePositions(segments: [String], leadingStar: Bool) -> Int {
        // Segments after a star: all but the first unless the pattern starts with one.
        let afterStars = leadingStar ? segments : Array(segments.dropFirst())
        var byFirst: [Character: Int] = [:]
        for s in afterStars { if let c = s.first { byFirst[c, default: 0] += 1 } }
        return byFirst.values.max() ?? 0
    }

    /// Whether `s` matches: the first literal is a prefix (unless the pattern starts with a star),
    /// the last a suffix (unless it ends with one), the middle ones found leftmost in order, which
    /// is exact for patterns whose only operator is `*`. Compared as UTF-8 bytes, as event-ruler does.
    public func matches(_ s: String) -> Bool {
        if segments.isEmpty { return leadingStar || s.isEmpty }
        let u = Array(s.utf8)
        var parts = bytes[...]
        var at = 0
        var end = u.count
        if !leadingStar {
            let first = parts.removeFirst()
            guard u.starts(with: first) else { return false }
            at = first.count
            if parts.isEmpty { return trailingStar || at == u.count }
        }
        if !trailingStar {
            let last = parts.removeLast()
            guard u.count - at >= last.count, u[(u.count - last.count)...].elementsEqual(last) else { return false }
            end = u.count - last.count
        }
        for p in parts {
            guard let found = Wildcard.find(p, in: u, from: at, before: end) else { return false }
            at = found + p.count
        }
        return true
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int, before end: Int) -> Int? {
        guard !needle.isEmpty else { return from }
        var i = from
        while i + needle.count <= end {
            if hay[i] == needle[0], hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// A `cidr` operand: an IPv4 or IPv6 network; it matches string values that are addresses in it.
public struct CIDR: Sendable, Hashable {
    /// The network's address bytes (4 or 16) and prefix length.
    public let bytes: [UInt8]
    public let bits: Int

    init(parsing text: String, path: [String]) throws(EventPatternError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw EventPatternError(reason: "Malformed CIDR, one '/' required", path: path) }
        let address = String(parts[0])
        guard let bits = Int(parts[1]), bits >= 0 else { throw EventPatternError(reason: "Malformed CIDR, mask bits must be an integer", path: path) }
        guard let bytes = CIDR.address(address) else { throw EventPatternError(reason: "Nonstandard IP address: \(address)", path: path) }
        guard bits <= bytes.count * 8 else {
            throw EventPatternError(reason: "Malformed CIDR, mask bits must be at most \(bytes.count * 8)", path: path)
        }
        self.bytes = bytes
        self.bits = bits
    }

    public func contains(_ text: String) -> Bool {
        guard let a = CIDR.address(text), a.count == bytes.count else { return false }
        var remaining = bits
        for i in 0..<bytes.count where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if a[i] & mask != bytes[i] & mask { return false }
            remaining -= take
        }
        return true
    }

    /// An IPv4 dotted quad or an IPv6 address (with `::`, and an IPv4 tail), as bytes.
    static func address(_ s: String) -> [UInt8]? {
        if s.contains(":") { return ipv6(s) }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func ipv6(_ s: String) -> [UInt8]? {
        let halves: [String]
        if let r = s.firstRange(of: "::") {
            halves = [String(s[..<r.lowerBound]), String(s[r.upperBound...])]
            guard !halves[1].contains("::") else { return nil }
        } else { halves = [s] }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, p) in pieces.enumerated() {
                if i == pieces.count - 1, p.contains("."), let v4 = address(String(p)) {
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(p.count), let v = UInt16(p, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

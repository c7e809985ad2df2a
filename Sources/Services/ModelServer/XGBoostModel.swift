import Foundation

/// The built-in `xgboost` runtime: reads XGBoost's own JSON model format (what
/// `Booster.save_model("m.json")` writes) and predicts as XGBoost does: splits compare in float32
/// (`x < threshold` goes left), a missing value takes the node's default direction, leaves add up
/// per output group on top of the base margin, and the objective turns margins into answers.
///
/// Trees are flattened into one array of 12-byte nodes, renumbered so that a node's children sit
/// side by side (only the left index is stored), and rows are walked in blocks of 64 per tree so
/// each tree stays in cache: the same layout ideas as XGBoost's own CPU predictor.
public struct XGBoostModel: Predictor, Equatable {
    public enum Objective: String, Sendable, Equatable, CaseIterable {
        case binaryLogistic = "binary:logistic"
        case binaryLogitraw = "binary:logitraw"
        case regLogistic = "reg:logistic"
        case regSquaredError = "reg:squarederror"
        case regAbsoluteError = "reg:absoluteerror"
        case regPseudoHuber = "reg:pseudohubererror"
        case countPoisson = "count:poisson"
        case regGamma = "reg:gamma"
        case regTweedie = "reg:tweedie"
        case multiSoftprob = "multi:softprob"
        case multiSoftmax = "multi:softmax"

        var isLogistic: Bool { self == .binaryLogistic || self == .regLogistic }
        var isExponential: Bool { self == .countPoisson || self == .regGamma || self == .regTweedie }
        var isMultiClass: Bool { self == .multiSoftprob || self == .multiSoftmax }
    }

    struct Node: Equatable {
        /// Index of the left child; the right child is `left + 1`; -1 for a leaf.
        var left: Int32
        /// Feature index in the low 31 bits; the top bit set means a missing value goes left.
        var feature: UInt32
        /// Split threshold, or the leaf's value.
        var value: Float

        static let defaultLeftBit: UInt32 = 1 << 31
    }

    public var objective: Objective
    public var featureCount: Int
    /// Output groups: the class count for multi-class objectives, else 1.
    public var groups: Int
    var baseMargin: [Float]
    var nodes: [Node]
    var roots: [Int32]
    /// Splits on each tree's longest path: how many steps a lockstep walk takes.
    var depths: [Int32]
    var treeGroup: [Int32]

    public var treeCount: Int { roots.count }
    public var outputsPerRow: Int { objective == .multiSoftprob ? groups : 1 }
    public var acceptsMissingValues: Bool { true }
    public var summary: String { "xgboost \(objective.rawValue), \(treeCount) trees, \(groups) group(s)" }

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    // The parts of the JSON format the predictor reads.
    struct File: Decodable {
        struct Learner: Decodable {
            struct Params: Decodable {
                var base_score: String
                var num_class: String
                var num_feature: String
            }
            struct ObjectiveName: Decodable { var name: String }
            struct Booster: Decodable {
                var name: String
                var model: Trees?
            }
            struct Trees: Decodable {
                var trees: [Tree]
                var tree_info: [Int]
            }
            var learner_model_param: Params
            var objective: ObjectiveName
            var gradient_booster: Booster
        }
        struct Tree: Decodable {
            var left_children: [Int32]
            var right_children: [Int32]
            var split_indices: [Int32]
            var split_conditions: [Float]
            var default_left: [Int]
            var categories_nodes: [Int]?
        }
        var learner: Learner
    }

    public static func load(path: String) throws -> XGBoostModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "cannot read model artifact '\(path)'")
        }
        return try load(data: data, path: path)
    }

    public static func load(data: Data, path: String) throws -> XGBoostModel {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw LoadError(description: "model artifact '\(path)' is not an XGBoost JSON model (write one with Booster.save_model(\"model.json\")): \(error)")
        }
        let learner = file.learner
        guard let objective = Objective(rawValue: learner.objective.name) else {
            throw LoadError(description: "model '\(path)' uses objective '\(learner.objective.name)'; supported: \(Objective.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard learner.gradient_booster.name == "gbtree", let trees = learner.gradient_booster.model else {
            throw LoadError(description: "model '\(path)' uses booster '\(learner.gradient_booster.name)'; only gbtree is supported")
        }
        let numClass = Int(learner.learner_model_param.num_class) ?? 0
        let groups = objective.isMultiClass ? max(numClass, 1) : 1
        guard let featureCount = Int(learner.learner_model_param.num_feature), featureCount > 0 else {
            throw LoadError(description: "model '\(path)' has no 'num_feature'")
        }
        // base_score: "5E-1" (XGBoost 1.x/2.x) or "[4.9E-1]" / "[a,b,c]" (3.x), in output space for
        // one group (turned into a margin by the objective's link), already margins for multi-class.
        let scores = learner.learner_model_param.base_score.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            .split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !scores.isEmpty else { throw LoadError(description: "model '\(path)' has an unreadable base_score") }
        var base = [Float](repeating: scores[0], count: groups)
        if scores.count == groups { base = scores }
        if !objective.isMultiClass {
            base = base.map { p in
                if objective.isLogistic { return log(p / (1 - p)) }
                if objective.isExponential { return log(p) }
                return p
            }
        }
        guard trees.trees.count == trees.tree_info.count else { throw LoadError(description: "model '\(path)': tree_info does not match the trees") }
        var nodes: [Node] = []
        var roots: [Int32] = []
        var depths: [Int32] = []
        for (t, tree) in trees.trees.enumerated() {
            let n = tree.left_children.count
            guard n > 0, tree.right_children.count == n, tree.split_indices.count == n, tree.split_conditions.count == n, tree.default_left.count == n else {
                throw LoadError(description: "model '\(path)': tree \(t) has arrays of different lengths")
            }
            if let cats = tree.categories_nodes, !cats.isEmpty {
                throw LoadError(description: "model '\(path)': tree \(t) has categorical splits, which are not supported")
            }
            // Breadth-first renumbering: each split's two children get consecutive slots.
            let root = nodes.count
            roots.append(Int32(root))
            nodes.append(Node(left: -1, feature: 0, value: 0))
            var queue: [(source: Int, slot: Int, depth: Int32)] = [(0, root, 0)]
            var head = 0
            var depth: Int32 = 0
            while head < queue.count {
                let (i, slot, level) = queue[head]
                head += 1
                depth = max(depth, level)
                guard i >= 0, i < n else { throw LoadError(description: "model '\(path)': tree \(t) has a child index out of range") }
                if tree.left_children[i] == -1 {
                    nodes[slot] = Node(left: -1, feature: 0, value: tree.split_conditions[i])
                    continue
                }
                let feature = Int(tree.split_indices[i])
                guard feature >= 0, feature < featureCount else {
                    throw LoadError(description: "model '\(path)': tree \(t) splits on feature \(feature) of \(featureCount)")
                }
                let left = nodes.count
                nodes.append(Node(left: -1, feature: 0, value: 0))
                nodes.append(Node(left: -1, feature: 0, value: 0))
                nodes[slot] = Node(left: Int32(left), feature: UInt32(feature) | (tree.default_left[i] != 0 ? Node.defaultLeftBit : 0),
                                   value: tree.split_conditions[i])
                queue.append((Int(tree.left_children[i]), left, level + 1))
                queue.append((Int(tree.right_children[i]), left + 1, level + 1))
                guard queue.count <= 2 * n + 1 else { throw LoadError(description: "model '\(path)': tree \(t) is not a tree") }
            }
            depths.append(depth)
        }
        let groupOfTree = trees.tree_info.map { Int32($0) }
        guard groupOfTree.allSatisfy({ $0 >= 0 && Int($0) < groups }) else { throw LoadError(description: "model '\(path)': tree_info names a class out of range") }
        return XGBoostModel(objective: objective, featureCount: featureCount, groups: groups, baseMargin: base,
                            nodes: nodes, roots: roots, depths: depths, treeGroup: groupOfTree)
    }

    static let block = 64

    /// Margins, `groups` per row.
    func margins(_ rows: [Double]) -> [Float] {
        let rowCount = rows.count / featureCount
        let width = featureCount, groups = self.groups
        var out = [Float](repeating: 0, count: rowCount * groups)
        // XGBoost reads features as float32.
        let features = rows.map { Float($0) }
        features.withUnsafeBufferPointer { x in
            nodes.withUnsafeBufferPointer { nodes in
                out.withUnsafeMutableBufferPointer { out in
                    for r in 0..<rowCount {
                        for g in 0..<groups { out[r * groups + g] = baseMargin[g] }
                    }
                    var start = 0
                    while start < rowCount {
                        let end = min(start + Self.block, rowCount)
                        for t in 0..<roots.count {
                            let root = Int(roots[t]), group = Int(treeGroup[t]), depth = Int(depths[t])
                            // Eight rows walk the tree in lockstep: eight independent chains of
                            // loads the CPU can overlap. A row that reached a leaf stays there.
                            var r = start
                            while r < end {
                                let lanes = min(8, end - r)
                                var at = (root, root, root, root, root, root, root, root)
                                withUnsafeMutableBytes(of: &at) { raw in
                                    let idx = raw.bindMemory(to: Int.self)
                                    for _ in 0..<depth {
                                        for j in 0..<lanes {
                                            let node = nodes[idx[j]]
                                            if node.left < 0 { continue }
                                            let v = x[(r + j) * width + Int(node.feature & ~Node.defaultLeftBit)]
                                            let goLeft = v.isNaN ? (node.feature & Node.defaultLeftBit) != 0 : v < node.value
                                            idx[j] = Int(node.left) + (goLeft ? 0 : 1)
                                        }
                                    }
                                    for j in 0..<lanes { out[(r + j) * groups + group] += nodes[idx[j]].value }
                                }
                                r += lanes
                            }
                        }
                        start = end
                    }
                }
            }
        }
        return out
    }

    public func predict(_ rows: [Double]) -> [Double] {
        let m = margins(rows)
        switch objective {
        case .binaryLogistic, .regLogistic:
            return m.map { Double(1 / (1 + exp(-$0))) }
        case .countPoisson, .regGamma, .regTweedie:
            return m.map { Double(exp($0)) }
        case .multiSoftprob, .multiSoftmax:
            var out: [Double] = []
            out.reserveCapacity(objective == .multiSoftprob ? m.count : m.count / groups)
            var start = 0
            while start < m.count {
                let row = m[start..<(start + groups)]
                if objective == .multiSoftmax {
                    out.append(Double(row.indices.max { m[$0] < m[$1] }! - start))
                } else {
                    let top = row.max()!
                    let e = row.map { exp($0 - top) }
                    let total = e.reduce(0, +)
                    out += e.map { Double($0 / total) }
                }
                start += groups
            }
            return out
        case .binaryLogitraw, .regSquaredError, .regAbsoluteError, .regPseudoHuber:
            return m.map(Double.init)
        }
    }
}

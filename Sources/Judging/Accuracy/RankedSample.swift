/// Rows sorted once by score, with runs of equal scores ("tie groups") summarised.
///
/// Every rank-based metric (AUC, DeLong placements, ROC curve, KS, average precision, quantile bins,
/// lift) is a walk over this one sort, so `evaluate` sorts n rows once: O(n) radix passes on the
/// scores' bit patterns, a few tenths of a second for millions of rows.
///
/// Order: score ascending; equal scores by row index *descending*. Read backwards this is score
/// descending with ties in original row order — the documented lift convention. Metrics that keep
/// ties together (all but lift) do not depend on the order inside a tie group. −0.0 and +0.0 are ties.
struct RankedSample {
    struct TieGroup {
        /// The shared score of the group.
        var score: Double
        private var start32: Int32
        private var count32: Int32
        private var churners32: Int32

        init(score: Double, start: Int, count: Int, churners: Int) {
            self.score = score
            start32 = Int32(start)
            count32 = Int32(count)
            churners32 = Int32(churners)
        }

        /// First position of the group in the sorted order.
        var start: Int { Int(start32) }
        var count: Int { Int(count32) }
        var churners: Int { Int(churners32) }
        var nonChurners: Int { count - churners }
        var end: Int { start + count }
    }

    let count: Int
    let churners: Int
    var nonChurners: Int { count - churners }
    /// Original row at each sorted position.
    let order: [Int32]
    /// Label at each sorted position.
    let sortedChurned: [Bool]
    /// Tie groups in ascending score order.
    let groups: [TieGroup]

    /// Rows are limited to Int32.max (checked by `checkLabels`).
    init(churned: [Bool], scores: [Double]) {
        let n = churned.count
        var keys = [UInt64](repeating: 0, count: n)
        var rows = [Int32](repeating: 0, count: n)
        // Start in descending row order: the stable radix sort then leaves ties in descending row order.
        for i in 0..<n {
            let row = n - 1 - i
            keys[i] = Self.sortKey(scores[row])
            rows[i] = Int32(row)
        }
        Self.radixSort(&keys, &rows)

        var sortedChurned = [Bool](repeating: false, count: n)
        var groups: [TieGroup] = []
        groups.reserveCapacity(n)
        var churners = 0
        keys.withUnsafeBufferPointer { keys in
            rows.withUnsafeBufferPointer { rows in
                churned.withUnsafeBufferPointer { churned in
                    sortedChurned.withUnsafeMutableBufferPointer { sortedChurned in
                        var position = 0
                        while position < n {
                            let key = keys[position]
                            var end = position, groupChurners = 0
                            while end < n, keys[end] == key {
                                let y = churned[Int(rows[end])]
                                sortedChurned[end] = y
                                groupChurners &+= y ? 1 : 0
                                end += 1
                            }
                            groups.append(TieGroup(score: Self.score(ofKey: key), start: position,
                                                   count: end - position, churners: groupChurners))
                            churners += groupChurners
                            position = end
                        }
                    }
                }
            }
        }
        self.count = n
        self.churners = churners
        self.order = rows
        self.sortedChurned = sortedChurned
        self.groups = groups
    }

    /// The score at a sorted position (binary search over the tie groups).
    func score(atPosition position: Int) -> Double {
        var low = 0, high = groups.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if groups[mid].start <= position { low = mid } else { high = mid - 1 }
        }
        return groups[low].score
    }

    /// An unsigned integer ordered like the (finite) double: flip all bits of negatives, set the sign
    /// bit of non-negatives.
    @inline(__always)
    static func sortKey(_ x: Double) -> UInt64 {
        let bits = (x == 0 ? 0.0 : x).bitPattern
        return bits >> 63 == 1 ? ~bits : bits | (1 << 63)
    }

    @inline(__always)
    static func score(ofKey key: UInt64) -> Double {
        Double(bitPattern: key >> 63 == 1 ? key & ~(1 << 63) : ~key)
    }

    /// Stable least-significant-digit radix sort of `keys`, carrying `rows` along: six passes of 11 bits,
    /// skipping any pass in which every key has the same digit (common in the high bits of probabilities).
    static func radixSort(_ keys: inout [UInt64], _ rows: inout [Int32]) {
        let n = keys.count
        guard n > 1 else { return }
        let digitBits = 11, buckets = 1 << digitBits, passes = 6
        let mask = UInt64(buckets - 1)
        var histogram = [Int](repeating: 0, count: passes * buckets)
        histogram.withUnsafeMutableBufferPointer { h in
            for k in keys {
                for pass in 0..<passes {
                    h[pass * buckets + Int((k >> UInt64(pass * digitBits)) & mask)] += 1
                }
            }
        }
        var otherKeys = [UInt64](repeating: 0, count: n)
        var otherRows = [Int32](repeating: 0, count: n)
        var offsets = [Int](repeating: 0, count: buckets)
        for pass in 0..<passes {
            let base = pass * buckets
            if histogram[base..<(base + buckets)].contains(n) { continue }  // one digit value: no-op pass
            var total = 0
            for b in 0..<buckets {
                offsets[b] = total
                total += histogram[base + b]
            }
            let shift = UInt64(pass * digitBits)
            keys.withUnsafeBufferPointer { sourceKeys in
                rows.withUnsafeBufferPointer { sourceRows in
                    otherKeys.withUnsafeMutableBufferPointer { destinationKeys in
                        otherRows.withUnsafeMutableBufferPointer { destinationRows in
                            offsets.withUnsafeMutableBufferPointer { next in
                                for i in 0..<n {
                                    let k = sourceKeys[i]
                                    let digit = Int((k >> shift) & mask)
                                    let target = next[digit]
                                    next[digit] = target + 1
                                    destinationKeys[target] = k
                                    destinationRows[target] = sourceRows[i]
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &otherKeys)
            swap(&rows, &otherRows)
        }
    }
}

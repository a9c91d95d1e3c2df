import Foundation
import ScoringCore

extension DesignRecipe {
    /// Writes the design rows of one piece of the training file: terms column-major at `x` with
    /// leading dimension `stride` (at least the piece's row count), the 0/1 label at `response`
    /// and, when `hasWeights`, the prior weights at `weights`. Returns how many rows it wrote.
    public func apply(_ piece: RawTable, recordOffset: Int, x: UnsafeMutablePointer<Double>, stride: Int,
                      response: UnsafeMutablePointer<Double>, weights: UnsafeMutablePointer<Double>?) throws -> Int {
        let place = PieceLocation(table: piece, recordOffset: recordOffset)
        let selection = try RowSelection.select(place, roles: roles, features: DesignStatistics.featureColumns(piece, roles: roles))
        precondition(selection.count <= stride, "block of \(stride) rows for a piece of \(selection.count)")
        x.update(repeating: 1, count: selection.count)
        var term = 1
        for step in steps {
            let columns = try step.columns.map { name -> RawColumn in
                guard let c = piece.column(named: name) else { throw place.error(name, "the column was not read", "check the header") }
                return c
            }
            try write(step, columns: columns, selection: selection, place: place, x: x + term * stride, stride: stride)
            term += step.termCount
        }
        try writeLabel(piece, selection: selection, place: place, response: response)
        if let weights { writeWeights(piece, selection: selection, response: response, weights: weights) }
        return selection.count
    }

    /// One step's terms for the selected rows, term t at `x + t·stride`.
    func write(_ step: Step, columns: [RawColumn], selection: RowSelection, place: PieceLocation,
               x: UnsafeMutablePointer<Double>, stride: Int) throws {
        let count = selection.count
        switch step {
        case .numeric(let name, let metric, let indicator):
            guard case .numeric(let values) = columns[0].values else {
                throw place.error(name, "text in a column the design reads as numbers", "mark the column categorical in the metric configuration")
            }
            try values.withUnsafeBufferPointer { v in
                if selection.kept == nil && metric.chain.isEmpty && columns[0].missingCount == 0 {
                    x.update(from: v.baseAddress!, count: count)
                } else if metric.chain.isEmpty {
                    // `metric.value` without a chain, as a plain gather (a missing cell takes the fill).
                    let fill = metric.fill
                    if let kept = selection.kept {
                        kept.withUnsafeBufferPointer { k in
                            for r in 0..<count { let value = v[k[r]]; x[r] = value.isNaN ? fill : value }
                        }
                    } else {
                        for r in 0..<count { let value = v[r]; x[r] = value.isNaN ? fill : value }
                    }
                } else {
                    for r in 0..<count {
                        let i = selection.row(r)
                        guard let value = metric.value(v[i]) else {
                            throw place.error(name, NumericStatistics.domainProblem(v[i], chain: metric.chain, inRow: place.recordOffset + i + 1),
                                              NumericStatistics.domainFix, row: i)
                        }
                        x[r] = value
                    }
                }
                if indicator {
                    for r in 0..<count { x[stride + r] = v[selection.row(r)].isNaN ? 1 : 0 }
                }
            }
        case .categorical(_, let positions, let missingPosition, let dummies):
            let (codes, levels) = columns[0].levelCodes()
            // Piece code → position; a level training never saw among its rows is coded as the reference.
            let position = levels.map { positions[$0] ?? 0 }
            for t in 0..<dummies { (x + t * stride).update(repeating: 0, count: count) }
            codes.withUnsafeBufferPointer { k in
                position.withUnsafeBufferPointer { position in
                    func put(_ r: Int, _ code: Int32) {
                        let pos = code < 0 ? missingPosition : position[Int(code)]
                        if pos > 0 { x[(pos - 1) * stride + r] = 1 }
                    }
                    if let kept = selection.kept {
                        kept.withUnsafeBufferPointer { rows in for r in 0..<count { put(r, k[rows[r]]) } }
                    } else {
                        for r in 0..<count { put(r, k[r]) }
                    }
                }
            }
        case .group(let members):
            x.update(repeating: 0, count: count)
            for (k, m) in members.enumerated() {
                guard case .numeric(let values) = columns[k].values else {
                    throw place.error(m.column, "text in a column the design reads as numbers", "remove it from the group")
                }
                try values.withUnsafeBufferPointer { v in
                    for r in 0..<count {
                        let i = selection.row(r)
                        guard let value = m.metric.value(v[i]) else {
                            throw place.error(m.column, NumericStatistics.domainProblem(v[i], chain: m.metric.chain, inRow: place.recordOffset + i + 1),
                                              NumericStatistics.domainFix, row: i)
                        }
                        x[r] += m.member.standardScore(value)
                    }
                }
            }
            let k = Double(members.count)
            for r in 0..<count { x[r] /= k }
        }
    }

    func writeLabel(_ piece: RawTable, selection: RowSelection, place: PieceLocation, response: UnsafeMutablePointer<Double>) throws {
        guard let column = piece.column(named: roles.target) else {
            throw place.error(roles.target, "the target column was not read", "do not skip the target column")
        }
        let (codes, levels) = column.levelCodes()
        let coded = levels.map { positiveLabels.contains($0) ? 1.0 : 0.0 }
        for r in 0..<selection.count { response[r] = coded[Int(codes[selection.row(r)])] }
    }

    /// Sample weight × class weight (scikit-learn's "balanced": each class gets total weight N/2).
    func writeWeights(_ piece: RawTable, selection: RowSelection, response: UnsafePointer<Double>, weights: UnsafeMutablePointer<Double>) {
        var base: [Double]? = nil
        if let name = roles.weights, case .numeric(let w)? = piece.column(named: name)?.values { base = w }
        for r in 0..<selection.count { weights[r] = base?[selection.row(r)] ?? 1 }
        if let totals = classTotals {
            let all = totals.negative + totals.positive
            let total = [totals.negative, totals.positive]
            for r in 0..<selection.count { weights[r] = weights[r] * all / (2 * total[Int(response[r])]) }
        }
    }
}

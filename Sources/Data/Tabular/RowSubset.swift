extension RawTable {
    /// The table restricted to `rows` (0-based, in the order given): a fold's training or test part.
    /// Category levels keep their codes, so both parts of a fold speak the same level names; error
    /// messages keep pointing at the file's own lines.
    public func subset(rows: [Int]) -> RawTable {
        let columns = self.columns.map { c -> RawColumn in
            switch c.values {
            case .numeric(let v):
                let picked = rows.map { v[$0] }
                return RawColumn(name: c.name, values: .numeric(picked), missingCount: picked.reduce(0) { $0 + ($1.isNaN ? 1 : 0) })
            case .text(let codes, let levels):
                let picked = rows.map { codes[$0] }
                return RawColumn(name: c.name, values: .text(codes: picked, levels: levels),
                                 missingCount: picked.reduce(0) { $0 + ($1 < 0 ? 1 : 0) })
            }
        }
        var hashed: [String: [UInt64]] = [:]
        for (name, h) in hashedColumns { hashed[name] = rows.map { h[$0] } }
        return RawTable(path: path, columns: columns, rowCount: rows.count, recordLines: rows.map { recordLines[$0] },
                        skippedColumns: skippedColumns, hashedColumns: hashed)
    }
}

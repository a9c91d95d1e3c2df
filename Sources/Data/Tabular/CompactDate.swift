/// Whole numbers that exports write for calendar times: 202312 (YYYYMM) or 20231231 (YYYYMMDD).
/// Read as plain numbers they would be periods 89 apart across a year end.
public enum CompactDate {
    public enum Kind: Sendable { case yearMonth, date }

    /// The form every number shares (years 1900–2100, months 1–12, days 1–31), nil for plain numbers.
    public static func kind(of numbers: some Collection<Int>) -> Kind? {
        guard let low = numbers.min(), let high = numbers.max() else { return nil }
        if low >= 190001 && high <= 210012 && numbers.allSatisfy({ (1...12).contains($0 % 100) }) { return .yearMonth }
        if low >= 19000101 && high <= 21001231
            && numbers.allSatisfy({ (1...12).contains($0 / 100 % 100) && (1...31).contains($0 % 100) }) { return .date }
        return nil
    }

    /// Year, month and day of one number of that form (day 1 for a year-month).
    public static func parts(_ n: Int, _ kind: Kind) -> (year: Int, month: Int, day: Int) {
        kind == .yearMonth ? (n / 100, n % 100, 1) : (n / 10000, n / 100 % 100, n % 100)
    }
}
